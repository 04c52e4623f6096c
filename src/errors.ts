/**
 * Every error a client can see. `code` is stable (clients and tests switch on it); `message`
 * is Chinese and says what to do next, because most of our users read nothing else.
 * Add new kinds here rather than building AppErrors inline.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Array<{ field: string; message: string }>,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export type ErrorDetails = AppError['details'];

export const ValidationError = (message = '提交的内容有误，请检查后重试', details?: ErrorDetails) =>
  new AppError(400, 'validation_error', message, details);

export const InvalidJsonError = () =>
  new AppError(400, 'invalid_json', '提交的内容不是有效的 JSON，请检查格式后重试');

export const AuthenticationError = (message = '请先登录后再操作') =>
  new AppError(401, 'unauthenticated', message);

export const AuthorizationError = (message = '您没有权限进行此操作，如有疑问请联系社区工作人员') =>
  new AppError(403, 'forbidden', message);

export const NotFoundError = (message = '没有找到您要的内容，可能已被删除') =>
  new AppError(404, 'not_found', message);

export const RouteNotFoundError = () =>
  new AppError(404, 'route_not_found', '接口地址不存在，请检查地址是否正确');

export const MethodNotAllowedError = (allowed: string[]) =>
  new AppError(405, 'method_not_allowed', `此接口不支持该请求方式，请使用 ${allowed.join(' / ')}`, undefined, {
    Allow: allowed.join(', '),
  });

export const ConflictError = (message = '操作冲突，请刷新后重试', code = 'conflict') =>
  new AppError(409, code, message);

export const PayloadTooLargeError = () =>
  new AppError(413, 'payload_too_large', '提交的内容太大，请精简后重试');

/** A DELETE names what it removes in its path: a body is a client bug, refused before acting. */
export const BodyNotAllowedError = () =>
  new AppError(400, 'body_not_allowed', '删除请求不需要提交内容，请去掉请求体后重试');

export const UnsupportedMediaTypeError = () =>
  new AppError(415, 'unsupported_media_type', '请以 JSON 格式提交（Content-Type: application/json）');

export const RateLimitedError = (retryAfterSeconds: number) =>
  new AppError(429, 'rate_limited', `操作太频繁了，请 ${retryAfterSeconds} 秒后再试`, undefined, {
    'Retry-After': String(retryAfterSeconds),
  });

export const ServiceUnavailableError = (message = '服务暂时不可用，请稍后再试') =>
  new AppError(503, 'service_unavailable', message);

/** The database cannot be reached: nothing was changed, the same request may be sent again. */
export const StorageUnavailableError = (retryAfterSeconds = 5) =>
  new AppError(503, 'storage_unavailable', `系统数据暂时无法访问，请 ${retryAfterSeconds} 秒后重试；如果一直这样，请联系社区工作人员`, undefined, {
    'Retry-After': String(retryAfterSeconds),
  });

export const InternalError = () =>
  new AppError(500, 'internal_error', '系统出了点问题，请稍后再试；如果一直这样，请联系社区工作人员');

// --- identity and login -------------------------------------------------------------------

export const InvalidCredentialsError = () =>
  new AppError(401, 'invalid_credentials', '用户名或密码不正确，请重新输入');

export const AccountLockedError = (retryAfterSeconds: number) =>
  new AppError(
    423,
    'account_locked',
    `密码连续输错次数过多，账号已暂时锁定，请 ${Math.ceil(retryAfterSeconds / 60)} 分钟后再试，或联系管理员`,
    undefined,
    { 'Retry-After': String(retryAfterSeconds) },
  );

/** Guesses cannot be counted (Redis away): sign-in waits rather than let them through. */
export const LoginUnavailableError = () =>
  new AppError(503, 'login_unavailable', '登录服务暂时不可用，请 10 秒后再试', undefined, { 'Retry-After': '10' });

export const TokenInvalidError = () =>
  new AppError(401, 'token_invalid', '登录已失效，请重新登录');

export const RefreshTokenReusedError = () =>
  new AppError(401, 'refresh_token_reused', '登录凭证已被使用过，为保护账号安全已退出所有设备，请重新登录');

export const BindingCodeInvalidError = () =>
  new AppError(400, 'binding_code_invalid', '绑定码不正确或已过期，请在小程序或找工作人员重新获取');

export const AccountAnonymisedError = () =>
  new AppError(403, 'account_deleted', '该账号已注销，如需继续使用请联系社区工作人员');

// --- WeChat's APIs (code2session, access token, subscribe messages) ----------------------

/** errcode -1, or WeChat unreachable / answering garbage: nothing the user did wrong. */
export const WechatBusyError = () =>
  new AppError(503, 'wechat_busy', '微信服务繁忙，请稍后再试', undefined, { 'Retry-After': '5' });

/** errcode 40029 (invalid code) and 40163 (code already used): wx.login must be called again. */
export const WechatCodeInvalidError = () =>
  new AppError(401, 'wechat_code_invalid', '微信登录凭证无效或已使用，请重新进入小程序登录');

/** errcode 45011: WeChat rate-limits this user's logins. */
export const WechatRateLimitedError = () =>
  new AppError(429, 'wechat_rate_limited', '登录太频繁了，请 1 分钟后再试', undefined, { 'Retry-After': '60' });

/** errcode 40226: WeChat blocks this user as high-risk. */
export const WechatUserBlockedError = () =>
  new AppError(403, 'wechat_user_blocked', '微信提示该账号存在风险，暂时无法登录，请联系社区工作人员');

/** Any other errcode: logged with the code, shown as a generic failure. */
export const WechatError = (errcode: number) =>
  new AppError(502, 'wechat_error', `微信服务返回错误（${errcode}），请稍后再试`);

/** Too many wrong codes over all contacts: someone may be guessing, binding waits a while. */
export const BindingPausedError = (retryAfterSeconds: number) =>
  new AppError(
    429,
    'binding_paused',
    `绑定暂时繁忙，请 ${Math.ceil(retryAfterSeconds / 60)} 分钟后再发送绑定码，或请社区工作人员帮您绑定`,
    undefined,
    { 'Retry-After': String(retryAfterSeconds) },
  );

export const BindingAttemptsExceededError = (retryAfterSeconds: number) =>
  new AppError(
    429,
    'binding_attempts_exceeded',
    `绑定码输错次数太多，请 ${Math.ceil(retryAfterSeconds / 60)} 分钟后再试，或请社区工作人员帮您绑定`,
    undefined,
    { 'Retry-After': String(retryAfterSeconds) },
  );

// --- bookings (rooms; the shared rules reused by the other services) -----------------------

/** A booking rule refused the request; `code` says which (stable), `message` what to do. */
export const BookingRuleError = (status: 400 | 403 | 409, code: string, message: string) =>
  new AppError(status, code, message);

export const ResidentNotVerifiedError = () =>
  new AppError(403, 'resident_not_verified', '您的资料还未通过社区认证，认证后才能预约；如需帮助请联系社区工作人员');

export const SlotTakenError = (what: string) =>
  new AppError(409, 'slot_taken', `${what}已被预约，请换一个时间`);

// --- notifications and jobs ---------------------------------------------------------------

export const NotificationNotRetryableError = () =>
  new AppError(409, 'notification_not_retryable', '这条通知没有发送失败，不需要重发');

export const NotificationRetryPendingError = () =>
  new AppError(409, 'notification_retry_pending', '这条通知已经安排重发，请稍后刷新查看结果');

export const MiniProgramNotSignedInError = () =>
  new AppError(409, 'miniprogram_not_signed_in', '请先在小程序中用微信登录，再订阅消息提醒');

// --- personal data export (PIPL right of access) -------------------------------------------

export const ExportPreparingError = () =>
  new AppError(409, 'export_preparing', '您的个人数据还在准备中，准备好后会发消息通知您，请稍后再下载', undefined, { 'Retry-After': '30' });

export const ExportFailedError = () =>
  new AppError(409, 'export_failed', '这份个人数据没有准备成功，请重新申请导出；如果仍不成功，请联系社区工作人员');

export const ExportExpiredError = (days: number) =>
  new AppError(410, 'export_expired', `这份个人数据已超过 ${days} 天保存期，文件已删除，请重新申请导出`);

// --- elderly meals (老年助餐) ----------------------------------------------------------------

/** Fewer portions left than asked for (the CapacityClaims under `meal:<menu>` are all taken). */
export const MealSoldOutError = (what: string) =>
  new AppError(409, 'meal_sold_out', `${what}已订满，剩余份数不够，请选择其他餐次或助餐点`);

export const MealCutoffPassedError = (what: string, cutoff: string) =>
  new AppError(409, 'meal_cutoff_passed', `${what}已于 ${cutoff} 截止订餐和取消；如需调整请联系助餐点工作人员`);

export const MealAlreadyOrderedError = () =>
  new AppError(409, 'meal_already_ordered', '这一餐已经订过了；如需改份数或方式，请修改或取消原来的订单');

export const DeliveryNotEligibleError = (minAge: number) =>
  new AppError(
    403,
    'delivery_not_eligible',
    `送餐上门仅限 ${minAge} 岁及以上或失能、残疾、独居的老人，或经社区工作人员同意；您可以选择堂食或自取`,
  );

export const OutsideDeliveryAreaError = (kitchen: string) =>
  new AppError(400, 'outside_delivery_area', `「${kitchen}」不送餐到您所在的楼栋或网格，请选择堂食、自取或其他助餐点`);

export const MealNotOrderableError = (message: string) => new AppError(409, 'meal_not_orderable', message);

// --- idempotency and Redis outages --------------------------------------------------------

/** The same Idempotency-Key is still being processed: nothing new was done, retry shortly. */
export const IdempotencyInProgressError = (retryAfterSeconds: number) =>
  new AppError(409, 'idempotency_in_progress', `相同的请求正在处理中，请 ${retryAfterSeconds} 秒后用同一个 Idempotency-Key 重试查看结果`, undefined, {
    'Retry-After': String(retryAfterSeconds),
  });

/**
 * Redis cannot be reached and this write needs it to stay correct. Commands that check first
 * (binding codes) changed nothing; an ioredis failure mapped by the error handler may come
 * after a database write, hence "check first" in the message.
 */
export const RedisUnavailableError = (retryAfterSeconds = 5) =>
  new AppError(503, 'redis_unavailable', `系统缓存服务暂时不可用，请 ${retryAfterSeconds} 秒后重试；重试前可先刷新，看看操作是否已经完成`, undefined, {
    'Retry-After': String(retryAfterSeconds),
  });

// --- compensation (src/booking/claims.ts, withClaims) -----------------------------------------

/**
 * A booking (or order, claim, redemption) failed half-way for a reason that is not the user's:
 * what it had taken was given back, nothing was kept, so the same request may be sent again.
 */
export const BookingInterruptedError = (cause?: unknown) =>
  Object.assign(
    new AppError(503, 'booking_interrupted', '系统处理时出了问题，这次没有预约成功，已占用的名额已退回，请稍后重试', undefined, {
      'Retry-After': '2',
    }),
    { cause },
  );
