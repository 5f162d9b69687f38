"""Events, as in ``wsproto.events``: the same classes, fields and defaults."""

from __future__ import annotations

from abc import ABC
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar, Union

if TYPE_CHECKING:
    from .extensions import Extension
    from .typing import Headers


class Event(ABC):
    """Base class of all events."""


@dataclass(frozen=True)
class Request(Event):
    """The client's upgrade request (sent by a client, received by a server).

    ``extensions``: received, the offered extension strings; to send, the
    extension objects to offer. ``extra_headers``: received, every header
    except Host, Sec-WebSocket-Extensions and Sec-WebSocket-Protocol (names
    lower-cased); to send, headers added to the request.
    """

    host: str
    target: str
    extensions: Union[Sequence[Extension], Sequence[str]] = field(default_factory=list)
    extra_headers: Headers = field(default_factory=list)
    subprotocols: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AcceptConnection(Event):
    """The server accepts (sent by a server, received by a client)."""

    subprotocol: str | None = None
    extensions: list[Extension] = field(default_factory=list)
    extra_headers: Headers = field(default_factory=list)


@dataclass(frozen=True)
class RejectConnection(Event):
    """The server rejects with an HTTP response; with ``has_body`` the body
    follows as ``RejectData`` events."""

    status_code: int = 400
    headers: Headers = field(default_factory=list)
    has_body: bool = False


@dataclass(frozen=True)
class RejectData(Event):
    """A chunk of the rejection body; ``body_finished`` on the last one."""

    data: bytes
    body_finished: bool = True


@dataclass(frozen=True)
class CloseConnection(Event):
    """A close frame (or the end of the transport: code 1006).

    Like wsproto, this package does not answer a close on its own: send
    ``event.response()`` when the state is REMOTE_CLOSING.
    """

    code: int
    reason: str | None = None

    def response(self) -> CloseConnection:
        """The close to send back: the same code and reason."""
        return CloseConnection(code=self.code, reason=self.reason)


T = TypeVar("T", bytes, bytearray, str)


@dataclass(frozen=True)
class Message(Event, Generic[T]):
    """A chunk of a data message. ``message_finished`` marks its last chunk;
    ``frame_finished`` the last chunk of a frame."""

    data: T
    frame_finished: bool = True
    message_finished: bool = True


@dataclass(frozen=True)
class TextMessage(Message[str]):
    """Text: ``data`` is a str."""


@dataclass(frozen=True)
class BytesMessage(Message[Union[bytearray, bytes]]):
    """Binary: ``data`` is bytes."""


@dataclass(frozen=True)
class Ping(Event):
    """A ping. Like wsproto, no pong is sent for you: send ``event.response()``."""

    payload: bytes = b""

    def response(self) -> Pong:
        """The pong that answers this ping."""
        return Pong(payload=self.payload)


@dataclass(frozen=True)
class Pong(Event):
    """A pong."""

    payload: bytes = b""
