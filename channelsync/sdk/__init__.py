"""The plugin author's kit: everything a channel plugin imports, and nothing else.

A channel is an adapter that only translates, plus a hook that registers it::

    from channelsync import Capabilities, Channel, Listing, Page, Setting, hookimpl

    class TinyShop(Channel):
        plugin = "tinyshop"
        capabilities = Capabilities(stock_mode="absolute", stock_batch_size=20)
        settings_schema = {"base_url": Setting(required=True), "token": Setting(required=True, secret=True)}

        def list_listings(self, page_token):  # one page per call: the core loops
            body = self.json(self.call("GET", "/skus", params={"page": page_token or 1}))
            return Page([Listing(s["id"], s["code"], quantity=s["qty"]) for s in body["skus"]], body.get("next"))

    @hookimpl
    def register_channels(register):
        register("tinyshop", TinyShop)

List the module under the ``channelsync`` entry-point group. The core pages, splits
order windows, retries, backs off, batches, keeps the rate budget and the cursors;
the adapter raises ``channelsync.sdk.errors`` and never sleeps or loops. Its simulator
subclasses ``channelsync.sim.Simulator``; ``channelsync.testing.conformance.suite(TinyShop)``
is its test suite. The whole guide: docs/plugins.md.
"""

from channelsync.sdk.auth import Credential, TokenAuth
from channelsync.sdk.batch import Call, grouped, run_calls
from channelsync.sdk.channel import Capabilities, Channel, Setting
from channelsync.sdk.errors import (
    AuthExpired,
    ChannelError,
    ChannelsyncError,
    NotFound,
    RateLimited,
    Reauthorize,
    Rejected,
    StockConflict,
    Transient,
    UnexpectedPayload,
    UserError,
)
from channelsync.sdk.errortable import ErrorTable
from channelsync.sdk.hookspecs import hookimpl

# the intake endpoint's answer is ``channelsync.sdk.intake.Reply``; at the top it is ``IntakeReply``,
# since ``Reply`` there is the page a channel's paginated method answers (``channelsync.sdk.paging``)
from channelsync.sdk.intake import (
    Bell,
    IntakeRejected,
    IntakeRequest,
    Receiver,
    Verified,
)
from channelsync.sdk.intake import Reply as IntakeReply
from channelsync.sdk.models import (
    Listing,
    ListingContent,
    Order,
    OrderLine,
    OrderStatus,
    Page,
    Parcel,
    PriceUpdate,
    StockUpdate,
    UpdateResult,
)
from channelsync.sdk.money import fen_to_yuan, yuan_to_fen
from channelsync.sdk.paging import (
    At,
    Detail,
    Keyset,
    NewestFirst,
    NextToken,
    Offset,
    PageNumber,
    Paginator,
    Phases,
    Reply,
)
from channelsync.sdk.router import SignedRouter
from channelsync.sdk.times import format_time, parse_time

__all__ = [
    "hookimpl", "Channel", "Capabilities", "Setting",
    "Listing", "ListingContent", "Order", "OrderLine", "OrderStatus", "Page", "Parcel", "PriceUpdate",
    "StockUpdate", "UpdateResult",
    "ChannelsyncError", "UserError", "ChannelError", "Transient", "RateLimited", "AuthExpired", "NotFound", "Rejected",
    "Reauthorize", "UnexpectedPayload", "StockConflict",
    "Call", "run_calls", "grouped", "fen_to_yuan", "yuan_to_fen", "parse_time", "format_time",
    "Paginator", "NextToken", "PageNumber", "Offset", "Keyset", "NewestFirst", "Phases", "At", "Reply", "Detail",
    "TokenAuth", "Credential",
    "Receiver", "IntakeRequest", "Bell", "Verified", "IntakeReply", "IntakeRejected",
    "ErrorTable", "SignedRouter",
]
