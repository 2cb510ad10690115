"""The Notification Endpoint's work (OpenID4VCI §11): what the wallet did with a Credential Response."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from tsunagu.oid4vci import InvalidNotificationId, NotificationRequest

from ..tables import IssuerNotification
from tsunagu.service.database import utc
from .tokens import AccessContext

__all__ = ["record_notification"]


def record_notification(session: Session, access: AccessContext, request: NotificationRequest, *, now: datetime) -> None:
    """Record the event; repeating a notification is idempotent (§11: "it returns success").

    Raises:
        InvalidNotificationId: not a ``notification_id`` given out with this access token's offer.
    """
    row = session.get(IssuerNotification, request.notification_id) if len(request.notification_id) <= 64 else None
    if row is None or row.tenant != access.tenant or row.offer_id != access.offer_id:
        raise InvalidNotificationId("this notification_id was not issued with this access token")
    row.event = request.event
    row.event_description = request.event_description
    row.event_at = utc(now)
    session.add(row)
    session.commit()
