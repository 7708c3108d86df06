"""Price rules: a SKU's base price -> what one channel should show, in integer fen.

The rules are pure functions with no clock: the caller passes the time, so a
promotion's start and end are decided by ``at`` and tests need no clock tricks;
``price_for`` alone reads the SKU from the store. All arithmetic is Decimal or int; a float never touches money.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Iterable, Sequence

import structlog

from channelsync.config.settings import ChannelConfig, Config, Promotion
from channelsync.sdk.money import fen_to_yuan
from channelsync.store import Store

log = structlog.get_logger("channelsync.engine.pricing")


@dataclass(frozen=True)
class PriceDecision:
    price: int             # fen, what the channel should show
    floored: bool          # True when the rules would have gone below the floor
    floor: int             # cost * (1 + min_margin_percent/100), rounded up to the fen; 0 when cost unknown
    reason: str            # a sentence for logs and `status`
    promotion: str | None  # name of the promotion applied, if any


def _half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _percent(value: Decimal) -> str:
    """Decimal("5") -> "5", Decimal("12.50") -> "12.5" (no exponent notation)."""
    return format(value.normalize(), "f")


def round_to_ending(price: int, ending: int) -> int:
    """The smallest price >= ``price`` whose fen part is ``ending``: (1234, 90) -> 1290, (1295, 90) -> 1390."""
    candidate = price - price % 100 + ending
    return candidate if candidate >= price else candidate + 100


def floor_price(cost: int, min_margin_percent: Decimal) -> int:
    """cost plus the minimum margin, rounded UP so the margin is never a fen short."""
    return int((Decimal(cost) * (100 + min_margin_percent) / 100).quantize(Decimal(1), rounding=ROUND_CEILING))


def _require_aware(name: str, value: datetime) -> None:
    # a naive time would be compared as if it were in some unknown zone; refuse rather than guess
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")


def active_promotions(sku_code: str, channel: str, promotions: Iterable[Promotion], at: datetime) -> list[Promotion]:
    """Promotions running at ``at`` (starts <= at < ends) for this channel and SKU."""
    return [p for p in promotions
            if p.starts <= at < p.ends
            and (not p.channels or channel in p.channels)
            and (not p.skus or sku_code in p.skus)]


def _promoted(price: int, promotion: Promotion) -> int:
    if promotion.price is not None:
        return promotion.price
    # percent_off applies to the price so far; round_ending is deliberately not re-applied,
    # so "20% off 12.90" shows 10.32 as the buyer expects, not 10.90
    return _half_up(Decimal(price) * (100 - promotion.percent_off) / 100)


def channel_price(sku_code: str, base_price: int, cost: int | None, cfg: ChannelConfig,
                  promotions: Sequence[Promotion], at: datetime) -> PriceDecision:
    """The price channel ``cfg`` should show for ``sku_code`` at ``at``.

    In order: the per-SKU override price or base * (1 + markup%) + fixed markup;
    rounding up to ``round_ending``; the active promotion giving the lowest price;
    the floor at cost + minimum margin, which the result never goes below.
    """
    price, floor, override, promotion = _rules(sku_code, base_price, cost, cfg, promotions, at)
    floored = cost is not None and price < floor
    return PriceDecision(price=floor if floored else price, floored=floored, floor=floor,
                         reason=_reason(sku_code, base_price, cfg, price, floor, floored, override, promotion),
                         promotion=promotion.name if promotion else None)


def _rules(sku_code: str, base_price: int, cost: int | None, cfg: ChannelConfig, promotions: Sequence[Promotion],
           at: datetime) -> tuple[int, int, bool, Promotion | None]:
    """(the price the rules ask for, before the floor; the floor; whether an override set it;
    the promotion applied): ``channel_price``'s arithmetic, without its sentence."""
    _require_aware("at", at)
    rules = cfg.price
    override = cfg.overrides.get(sku_code)
    overridden = override is not None and override.price is not None
    if overridden:
        price = override.price
    else:
        price = _half_up(Decimal(base_price) * (1 + rules.markup_percent / 100) + rules.markup_fixed)
    if rules.round_ending is not None:
        price = round_to_ending(price, rules.round_ending)
    promotion = None
    running = active_promotions(sku_code, cfg.name, promotions, at)
    if running:
        # several at once (a shop-wide sale and a SKU deal): the buyer gets the best one;
        # min() keeps the first listed on a tie, so the choice is stable
        promotion = min(running, key=lambda p: _promoted(price, p))
        price = _promoted(price, promotion)
    floor = floor_price(cost, rules.min_margin_percent) if cost is not None else 0
    return price, floor, overridden, promotion


def _reason(sku_code: str, base_price: int, cfg: ChannelConfig, price: int, floor: int, floored: bool,
            override: bool, promotion: Promotion | None) -> str:
    """The sentence for logs and `status` saying how the price came about."""
    via = f" with promotion {promotion.name}" if promotion else ""
    if floored:
        return (f"{sku_code} on {cfg.name}: {fen_to_yuan(price)}{via} would sell below cost + "
                f"{_percent(cfg.price.min_margin_percent)}% margin ({fen_to_yuan(floor)}); using {fen_to_yuan(floor)}")
    source = "override" if override else f"base {fen_to_yuan(base_price)}"
    return f"{sku_code} on {cfg.name}: {fen_to_yuan(price)} from {source}{via}"


def price_for(store: Store, config: Config, cfg: ChannelConfig, sku_code: str, at: datetime) -> PriceDecision | None:
    """The price channel ``cfg`` should show for a catalog SKU at ``at`` (None: no such SKU).
    A price held up by the cost floor is logged, since the rules asked for less."""
    sku = store.one("SELECT base_price, cost FROM skus WHERE code = ?", (sku_code,))
    if sku is None:
        return None
    return decide(config, cfg, sku_code, sku["base_price"], sku["cost"], at)


def decide(config: Config, cfg: ChannelConfig, sku_code: str, base_price: int, cost: int | None,
           at: datetime, logger=log) -> PriceDecision:
    """``price_for`` with the SKU's row already read (a resync reads a page of them at once;
    it passes a logger bound once, as the module's lazy one binds on every call)."""
    decision = channel_price(sku_code, base_price, cost, cfg, config.promotions, at)
    if decision.floored:
        logger.warning("price_floored", channel=cfg.name, sku=sku_code, reason=decision.reason)
    else:
        logger.debug("price_decided", channel=cfg.name, sku=sku_code, reason=decision.reason)
    return decision


def decide_price(config: Config, cfg: ChannelConfig, sku_code: str, base_price: int, cost: int | None,
                 at: datetime, logger=log) -> int:
    """``decide``'s price alone, logged as ``decide`` logs it: a resync decides one price per
    listing, and the sentence, a tenth of its time, is written only for a line that is written
    (a floored price's warning, or the debug line when debug is on)."""
    price, floor, override, promotion = _rules(sku_code, base_price, cost, cfg, config.promotions, at)
    floored = cost is not None and price < floor
    if floored:
        logger.warning("price_floored", channel=cfg.name, sku=sku_code,
                       reason=_reason(sku_code, base_price, cfg, price, floor, True, override, promotion))
        return floor
    if logger.is_enabled_for(logging.DEBUG):
        logger.debug("price_decided", channel=cfg.name, sku=sku_code,
                     reason=_reason(sku_code, base_price, cfg, price, floor, False, override, promotion))
    return price


def promotion_boundaries(promotions: Iterable[Promotion], after: datetime, until: datetime) -> list[datetime]:
    """Promotion starts and ends in ``(after, until]``, sorted, each once.

    The scheduler calls this for the interval since its last look; a non-empty
    answer means some channel's price may have changed and must be recomputed.
    Half-open on the left so consecutive intervals never report a boundary twice.
    """
    _require_aware("after", after)
    _require_aware("until", until)
    return sorted({t for p in promotions for t in (p.starts, p.ends) if after < t <= until})
