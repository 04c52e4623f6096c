/**
 * The load side of the HTTP benchmarks, run as a child process of a benchmark (see
 * runLoadChild in support.ts) so that the client does not share the server's event loop.
 * It gets one job on IPC, answers with one message and exits. Every job is bounded in
 * requests and in time.
 *
 *   bookings:   autocannon, N connections POSTing room bookings from a slot plan for D seconds
 *   sequential: W warm-up then N sequential GETs of one path, timing each to its last byte
 */
import http from 'node:http';
import autocannon from 'autocannon';
import { planSize, slotAt, type SlotPlan } from './plan.js';

export interface BookingsJob {
  mode: 'bookings';
  url: string;
  roomIds: string[];
  /** Access token per resident index of the plan. */
  tokens: string[];
  plan: SlotPlan;
  connections: number;
  durationSec: number;
  /** Send an Idempotency-Key with each request (two more Redis calls per booking). */
  idempotency: boolean;
}

export interface BookingsResult {
  /** Seconds from the first request to the end, as measured here. */
  elapsedSec: number;
  sent: number;
  created: number;
  statusCounts: Record<string, number>;
  /** Connection errors and timeouts (autocannon). */
  errors: number;
  timeouts: number;
  createdPerSec: number;
  latencyMs: { average: number; p50: number; p90: number; p99: number; max: number };
  /** The first few bodies that were not 201, to tell what went wrong. */
  otherBodies: string[];
  planExhausted: boolean;
  /** CPU seconds this load process used during the run. */
  cpuSec: number;
}

export interface SequentialJob {
  mode: 'sequential';
  url: string;
  path: string;
  token: string;
  warmup: number;
  count: number;
  /** Stop early after this long (the answer says how many were made). */
  maxSec: number;
}

export interface SequentialResult {
  warmupMs: number[];
  ms: number[];
  statuses: number[];
  bytes: number;
  firstBodyStart: string;
}

function runBookings(job: BookingsJob): Promise<BookingsResult> {
  const capacity = planSize(job.plan);
  let next = 0;
  let created = 0;
  const statusCounts: Record<string, number> = {};
  const otherBodies: string[] = [];
  let firstSent = 0;
  let planExhausted = false;
  const cpuAtStart = process.cpuUsage();

  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: job.url,
        connections: job.connections,
        duration: job.durationSec,
        // The plan is the bound on requests; the duration the bound on time.
        maxOverallRequests: Math.max(capacity, job.connections),
        pipelining: 1,
        timeout: 30,
        requests: [
          {
            method: 'POST',
            setupRequest: (req) => {
              const i = next++;
              const slot = slotAt(job.plan, i);
              if (!slot) {
                // The plan is used up (far more slots than a run books): stop, and send a
                // harmless GET (200) that is not counted as a booking answer.
                planExhausted = true;
                instance.stop();
                return { ...req, method: 'GET', path: '/healthz', headers: {}, body: undefined };
              }
              if (firstSent === 0) firstSent = performance.now();
              const headers: Record<string, string> = {
                'content-type': 'application/json',
                authorization: `Bearer ${job.tokens[slot.resident]}`,
              };
              if (job.idempotency) headers['idempotency-key'] = `bench-${process.pid}-${i}`;
              return {
                ...req,
                method: 'POST',
                path: `/api/v1/rooms/${job.roomIds[slot.room]}/bookings`,
                headers,
                body: JSON.stringify({
                  start: slot.start.toISOString(),
                  end: slot.end.toISOString(),
                  purpose: '压测：兴趣小组活动',
                  attendees: 8,
                }),
              };
            },
            onResponse: (status, body) => {
              if (status === 200) return; // the /healthz after the plan ran out
              statusCounts[status] = (statusCounts[status] ?? 0) + 1;
              if (status === 201) created += 1;
              else if (otherBodies.length < 5) otherBodies.push(`${status} ${String(body).slice(0, 300)}`);
            },
          },
        ],
      },
      (err, result) => {
        if (err) return reject(err);
        const elapsedSec = (performance.now() - firstSent) / 1000;
        const sent = Object.values(statusCounts).reduce((a, b) => a + b, 0);
        resolve({
          elapsedSec,
          sent,
          created,
          statusCounts,
          errors: result.errors,
          timeouts: result.timeouts,
          createdPerSec: created / elapsedSec,
          latencyMs: {
            average: result.latency.average,
            p50: result.latency.p50,
            p90: result.latency.p90,
            p99: result.latency.p99,
            max: result.latency.max,
          },
          otherBodies,
          planExhausted,
          cpuSec: (() => {
            const used = process.cpuUsage(cpuAtStart);
            return (used.user + used.system) / 1e6;
          })(),
        });
      },
    );
  });
}

function getOnce(url: URL, token: string): Promise<{ ms: number; status: number; bytes: number; head: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.get(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, agent: keepAlive }, (res) => {
      let bytes = 0;
      let head = '';
      res.on('data', (chunk: Buffer) => {
        if (head.length < 200) head += chunk.toString('utf8', 0, Math.min(chunk.length, 200));
        bytes += chunk.length;
      });
      res.on('end', () => resolve({ ms: performance.now() - started, status: res.statusCode ?? 0, bytes, head: head.slice(0, 200) }));
      res.on('error', reject);
    });
    req.setTimeout(60_000, () => req.destroy(new Error('GET timed out after 60 s')));
    req.on('error', reject);
  });
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });

async function runSequential(job: SequentialJob): Promise<SequentialResult> {
  const url = new URL(job.path, job.url);
  const deadline = performance.now() + job.maxSec * 1000;
  const result: SequentialResult = { warmupMs: [], ms: [], statuses: [], bytes: 0, firstBodyStart: '' };
  for (let i = 0; i < job.warmup && performance.now() < deadline; i += 1) {
    const r = await getOnce(url, job.token);
    result.warmupMs.push(r.ms);
    if (!result.firstBodyStart) result.firstBodyStart = r.head;
    if (r.status !== 200) throw new Error(`warm-up GET answered ${r.status}: ${r.head}`);
  }
  for (let i = 0; i < job.count && performance.now() < deadline; i += 1) {
    const r = await getOnce(url, job.token);
    result.ms.push(r.ms);
    result.statuses.push(r.status);
    result.bytes = r.bytes;
  }
  keepAlive.destroy();
  return result;
}

process.once('message', (message) => {
  const job = message as BookingsJob | SequentialJob;
  const work = job.mode === 'bookings' ? runBookings(job) : runSequential(job);
  work.then(
    (result) => process.send!({ ok: true, result }, () => process.exit(0)),
    (err: Error) => process.send!({ ok: false, error: err.stack ?? err.message }, () => process.exit(1)),
  );
});
