import type { CommunityListing } from '../commands/communities.js';
import type { PersonFields } from '../../models/person.js';
import type { RoomBookingDoc } from '../../models/roomBooking.js';
import type { AuthUser } from '../auth/user.js';
import { idOf } from './fields.js';
import { maskPhone } from './person.js';
import { presentRoomBooking } from './roomBooking.js';

/** A community and its facilities; `manage` says whether the caller is staff over each. */
export function presentCommunity({ community, facilities }: CommunityListing) {
  return {
    id: idOf(community._id),
    name: community.name,
    district: community.district,
    facilities: facilities.map(({ facility, manage }) => ({
      id: idOf(facility._id),
      name: facility.name,
      kind: facility.kind,
      address: facility.address,
      manage,
    })),
  };
}

/** A pending booking in the approvals queue: the booking, the room's name, the booker's name and masked phone. */
export function presentPendingBooking(
  { booking, roomName, booker }: { booking: RoomBookingDoc; roomName: string | null; booker: PersonFields | null },
  _viewer: AuthUser,
) {
  return {
    ...presentRoomBooking(booking),
    roomName,
    booker: { id: idOf(booking.bookedFor), name: booker?.name ?? null, phone: maskPhone(booker?.phone) },
  };
}
