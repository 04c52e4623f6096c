/** The shapes the console reads from the API (see /openapi.json). */
export interface Person {
  id: string;
  name: string | null;
  phone: string | null;
  community: string | null;
  roles: string[];
}

export interface FacilitySummary {
  id: string;
  name: string;
  kind: 'community_centre' | 'kitchen' | 'childcare_centre';
  address?: string;
  /** True when the caller is staff over it (or an admin). */
  manage?: boolean;
}

export interface Community {
  id: string;
  name: string;
  district: string;
  facilities: FacilitySummary[];
}

export interface RoomBooking {
  id: string;
  room: string;
  facility: string;
  start: string;
  end: string;
  purpose: string;
  attendees: number;
  status: string;
  bookedFor: string;
  bookedBy: string;
  flag: { reason: string; at: string } | null;
}

export interface PendingBooking extends RoomBooking {
  roomName: string;
  booker: { id: string; name: string | null; phone: string | null };
}
