"""Finding events: the `event` option's autocomplete, `/event info` and `/event list` with its
persistent page buttons.

Every lookup of an event by id goes through `find_event`, which asks for the event in the
guild the command came from, so an id from another server reads exactly like a missing one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import discord
from discord import app_commands

from bot.checks import ensure_staff, staff_autocomplete
from bot.errors import InvalidInput, NotAllowed, NotFound
from bot.replies import send_reply
from bot.tree import GuardedItem, RollcallView
from cogs.events.group import event_group
from storage.event_reviews import ReviewSummary
from storage.events import Event, EventRepository, EventSearch, ListWhen
from utils.text import echo, shorten
from utils.timefmt import discord_timestamp, local_text
from utils.when import TimeRefused, day_start, parse_day

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.types import Interaction
    from storage.event_reviews import ReviewRepository
    from storage.guild_config import GuildConfigRepository

AUTOCOMPLETE_LIMIT = 25
CHOICE_NAME_LIMIT = 100
LIST_PAGE_SIZE = 10
LIST_TITLE_LIMIT = 60
CUSTOM_ID_LIMIT = 100
WHEN_CHOICES = [app_commands.Choice(name=when, value=when) for when in ("upcoming", "active", "past", "all")]
STATUS_BADGES = {"upcoming": "🗓️ upcoming", "active": "🟢 active", "ended": "ended", "cancelled": "❌ cancelled"}


def not_found(event_id: int) -> NotFound:
    return NotFound(
        f"No event #{event_id} in this server. Start typing its title in the `event` option to pick it from the list."
    )


async def find_event(events: EventRepository, guild_id: int | None, event_id: int) -> Event:
    """The event with this id in this guild; another guild's event is refused as missing."""
    event = await events.get_in_guild(guild_id, event_id) if guild_id is not None else None
    if event is None:
        raise not_found(event_id)
    return event


def event_link(event: Event) -> str | None:
    if event.message_id is None:
        return None
    return f"https://discord.com/channels/{event.guild_id}/{event.channel_id}/{event.message_id}"


# ---- autocomplete -------------------------------------------------------------------------


def choice_name(event: Event, timezone: str, now: datetime) -> str:
    """`Raid night — Sat 14 Mar 19:00` in the guild's zone (the year when it is not this one's)."""
    zone = ZoneInfo(timezone)
    local = event.starts_at.astimezone(zone)
    when = (
        local.strftime("%a %d %b %H:%M")
        if local.year == now.astimezone(zone).year
        else local.strftime("%a %d %b %Y %H:%M")
    )
    tail = f" — {when}"
    if event.cancelled_at is not None:
        tail += " · cancelled"
    return shorten(event.title, CHOICE_NAME_LIMIT - len(tail)) + tail


async def event_choices(
    events: EventRepository,
    guild_id: int,
    current: str,
    *,
    timezone: str,
    now: datetime,
    created_by: int | None = None,
) -> list[app_commands.Choice[int]]:
    """This guild's events whose title contains `current`, soonest first; an id typed as `12`
    or `#12` puts that event (of this guild only) first. `created_by` keeps only that member's."""
    found: list[Event] = []
    typed_id = current.strip().lstrip("#")
    if typed_id.isdigit() and len(typed_id) < 19:
        by_id = await events.get_in_guild(guild_id, int(typed_id))
        if by_id is not None:
            found.append(by_id)
    found += await events.list_for_autocomplete(guild_id, current, now=now, limit=AUTOCOMPLETE_LIMIT)
    choices: list[app_commands.Choice[int]] = []
    seen: set[int] = set()
    for event in found:
        if event.id in seen or (created_by is not None and event.created_by != created_by):
            continue
        seen.add(event.id)
        choices.append(app_commands.Choice(name=choice_name(event, timezone, now), value=event.id))
    return choices[:AUTOCOMPLETE_LIMIT]


async def matching_events(
    events: EventRepository, configs: GuildConfigRepository, guild_id: int | None, current: str, now: datetime
) -> list[app_commands.Choice[int]]:
    """The choices of an `event` option for any cog holding the repositories (the roll call's
    `/attendance open event` too): this guild's events only, soonest first."""
    if guild_id is None:
        return []
    config = await configs.get(guild_id)
    return await event_choices(events, guild_id, current, timezone=config.timezone, now=now)


# ---- /event info --------------------------------------------------------------------------


def capacity_text(going: int, capacity: int | None) -> str:
    return f"{going}/{capacity}" if capacity is not None else str(going)


def info_embed(
    event: Event,
    counts: dict[str, int],
    attended: int,
    *,
    timezone: str,
    now: datetime,
    reviews: ReviewSummary | None = None,
) -> discord.Embed:
    status = event.status_at(now)
    colour = discord.Colour.red() if status == "cancelled" else discord.Colour.blurple()
    embed = discord.Embed(title=shorten(event.title, 256), colour=colour, url=event_link(event))
    if event.description:
        embed.description = event.description
    embed.add_field(
        name="When",
        value=(
            f"{discord_timestamp(event.starts_at, 'F')} ({discord_timestamp(event.starts_at, 'R')})\n"
            f"until {discord_timestamp(event.ends_at, 'F')}\n"
            f"{local_text(event.starts_at, timezone)} – {local_text(event.ends_at, timezone)} {timezone}"
        ),
        inline=False,
    )
    if event.location:
        embed.add_field(name="Where", value=event.location, inline=False)
    embed.add_field(name="Status", value=STATUS_BADGES[status])
    embed.add_field(name="Going", value=capacity_text(counts.get("going", 0), event.capacity))
    embed.add_field(name="Waitlist", value=str(counts.get("waitlist", 0)))
    embed.add_field(name="Interested", value=str(counts.get("interested", 0)))
    embed.add_field(name="Not going", value=str(counts.get("not_going", 0)))
    embed.add_field(name="Attended", value=str(attended))
    if reviews is not None:
        embed.add_field(name="Reviews", value=reviews.describe())
    rules = []
    if event.role_id is not None:
        rules.append(f"Only <@&{event.role_id}> may RSVP and attend.")
    if event.signup_cutoff_at is not None:
        rules.append(f"Sign-ups close {discord_timestamp(event.signup_cutoff_at, 'f')}.")
    rules.append(f"Created by <@{event.created_by}>; posted in <#{event.channel_id}>.")
    if event.cancelled_at is not None:
        by = f" by <@{event.cancelled_by}>" if event.cancelled_by else ""
        rules.append(f"Cancelled{by} {discord_timestamp(event.cancelled_at, 'f')}.")
    embed.add_field(name="Details", value="\n".join(rules), inline=False)
    embed.set_footer(text=f"Event #{event.id}")
    return embed


# ---- /event list --------------------------------------------------------------------------


# Custom ids carry numbers only (tests/test_core.py), so the filters travel as numbers: `when`
# as a digit, days as days since 1970 (0: none), and the search text as one integer. Plain
# lowercase text (search ignores case) is written in a small alphabet, so about 38 characters
# fit; anything else falls back to its UTF-8 bytes, which fit about 25.
TEXT_ALPHABET = " abcdefghijklmnopqrstuvwxyz0123456789-'.&!?,:#/+"
TEXT_NONE, TEXT_ALPHABET_MODE, TEXT_BYTES_MODE = "0", "1", "2"
WHEN_DIGITS: dict[str, str] = {"upcoming": "1", "active": "2", "past": "3", "all": "4"}
WHEN_BY_DIGIT = {digit: when for when, digit in WHEN_DIGITS.items()}
DAY_ZERO = date(1970, 1, 1).toordinal() - 1
# The largest page number a button may carry, for the length check of a custom id.
MAX_PAGE = 99_999


def _bijective(values: list[int], base: int) -> int:
    number = 0
    for value in values:
        number = number * base + value + 1
    return number


def _unbijective(number: int, base: int) -> list[int]:
    values: list[int] = []
    while number > 0:
        number -= 1
        values.append(number % base)
        number //= base
    return values[::-1]


def encode_text(text: str) -> str:
    if not text:
        return TEXT_NONE
    lowered = text.lower()
    if all(char in TEXT_ALPHABET for char in lowered):
        return TEXT_ALPHABET_MODE + str(_bijective([TEXT_ALPHABET.index(c) for c in lowered], len(TEXT_ALPHABET)))
    return TEXT_BYTES_MODE + str(_bijective(list(text.encode("utf-8")), 256))


def decode_text(encoded: str) -> str:
    mode, digits = encoded[:1], encoded[1:]
    if mode == TEXT_ALPHABET_MODE and digits:
        values = _unbijective(int(digits), len(TEXT_ALPHABET))
        return "".join(TEXT_ALPHABET[value] for value in values)
    if mode == TEXT_BYTES_MODE and digits:
        return bytes(_unbijective(int(digits), 256)).decode("utf-8", errors="replace")
    return ""


def _day_number(day: date | None) -> str:
    return str(day.toordinal() - DAY_ZERO) if day is not None else "0"


def _day(number: str) -> date | None:
    value = int(number)
    return date.fromordinal(value + DAY_ZERO) if 0 < value < date.max.toordinal() - DAY_ZERO else None


@dataclass(frozen=True, slots=True)
class ListFilters:
    """What `/event list` was asked for, as its page buttons carry it across restarts. Days are
    calendar days of the guild's zone; `last_day` is included."""

    when: ListWhen = "upcoming"
    text: str = ""
    first_day: date | None = None
    last_day: date | None = None

    def custom_id(self, page: int) -> str:
        return (
            f"rollcall:event:list:{page}:{WHEN_DIGITS[self.when]}:{_day_number(self.first_day)}:"
            f"{_day_number(self.last_day)}:{encode_text(self.text)}"
        )

    @classmethod
    def from_match(cls, match: re.Match[str]) -> ListFilters:
        return cls(
            when=WHEN_BY_DIGIT.get(match["when"], "upcoming"),  # type: ignore[arg-type]
            text=decode_text(match["text"]),
            first_day=_day(match["start"]),
            last_day=_day(match["end"]),
        )

    def search(self, guild_id: int, timezone: str) -> EventSearch:
        return EventSearch(
            guild_id=guild_id,
            when=self.when,
            text=self.text,
            starts_from=day_start(self.first_day, timezone) if self.first_day else None,
            # The bound is the start of the day after the last one listed.
            starts_to=day_start(self.last_day + timedelta(days=1), timezone) if self.last_day else None,
        )

    def describe(self) -> str:
        parts: list[str] = [self.when]
        if self.text:
            parts.append(f"“{self.text}”")
        if self.first_day is not None:
            parts.append(f"from {self.first_day.isoformat()}")
        if self.last_day is not None:
            parts.append(f"to {self.last_day.isoformat()}")
        return " · ".join(parts)


def read_filters(
    when: str, search: str | None, from_text: str | None, to_text: str | None, *, timezone: str, now: datetime
) -> ListFilters:
    """The typed filters, refused with an example when one can't be used."""
    text = " ".join((search or "").split())
    first_day = last_day = None
    try:
        if from_text:
            first_day = parse_day(from_text, zone_name=timezone, now=now, what="`from` day")
        if to_text:
            last_day = parse_day(to_text, zone_name=timezone, now=now, what="`to` day")
    except TimeRefused as refusal:
        raise InvalidInput(refusal.message) from None
    if first_day is not None and last_day is not None and last_day < first_day:
        raise InvalidInput(
            f"`to` ({echo(to_text)}, {last_day.isoformat()}) is before `from` ({echo(from_text)}, "
            f"{first_day.isoformat()}): the list would be empty. Swap them, or leave one out."
        )
    filters = ListFilters(
        when=when if when in WHEN_DIGITS else "upcoming",  # type: ignore[arg-type]
        text=text,
        first_day=first_day,
        last_day=last_day,
    )
    if len(filters.custom_id(MAX_PAGE)) > CUSTOM_ID_LIMIT:
        raise InvalidInput(
            f"The search `{echo(text)}` is too long for me to page through: keep it to a word or two of the title "
            "(about 35 plain letters, fewer with accents or emoji)."
        )
    return filters


def _empty_hint(filters: ListFilters) -> str:
    hints = []
    if filters.when != "all":
        hints.append("`when: all`")
    if filters.text:
        hints.append("a shorter `search` or none")
    if filters.first_day is not None or filters.last_day is not None:
        hints.append("a wider `from`/`to` range")
    if not hints:
        return "No events in this server yet. Organizers create one with `/event create`."
    return "To widen the search, try " + ", ".join(hints) + "."


def list_line(event: Event, going: int, now: datetime) -> str:
    status = STATUS_BADGES[event.status_at(now)]
    title = shorten(event.title, LIST_TITLE_LIMIT).replace("*", "\\*")
    return (
        f"**{title}** · {discord_timestamp(event.starts_at, 'f')} · {status} · "
        f"{capacity_text(going, event.capacity)} going · `#{event.id}`"
    )


async def render_list_page(
    events: EventRepository, filters: ListFilters, *, guild_id: int, timezone: str, now: datetime, page: int
) -> tuple[discord.Embed, discord.ui.View | None]:
    search = filters.search(guild_id, timezone)
    total = await events.count_search(search, now=now)
    pages = max(1, -(-total // LIST_PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    found = await events.search(search, now=now, limit=LIST_PAGE_SIZE, offset=page * LIST_PAGE_SIZE)
    embed = discord.Embed(title="Events", colour=discord.Colour.blurple())
    if not found:
        embed.description = f"No events match ({filters.describe()}). {_empty_hint(filters)}"
        return embed, None
    going = await events.count_going_by_event([event.id for event in found])
    embed.description = "\n".join(list_line(event, going[event.id], now) for event in found)
    embed.set_footer(text=shorten(f"Page {page + 1} of {pages} · {total} events · {filters.describe()}", 2048))
    if pages == 1:
        return embed, None
    view = RollcallView(timeout=None)
    view.add_item(EventsPageButton(filters, max(page - 1, 0), label="◀ Previous", disabled=page == 0))
    view.add_item(EventsPageButton(filters, page + 1, label="Next ▶", disabled=page >= pages - 1))
    return embed, view


class EventsPageButton(
    GuardedItem,
    discord.ui.DynamicItem[discord.ui.Button],
    template=(r"rollcall:event:list:(?P<page>\d+):(?P<when>\d+):(?P<start>\d+):(?P<end>\d+):(?P<text>\d+)"),
):
    """Previous/next page of `/event list`; the page and the filters are in the custom id, so a
    click works after a restart with nothing kept in memory."""

    def __init__(self, filters: ListFilters, page: int, *, label: str, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=filters.custom_id(page),
                disabled=disabled,
            )
        )
        self.filters = filters
        self.page = page

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> EventsPageButton:
        return cls(ListFilters.from_match(match), int(match["page"]), label=item.label or "Page")

    async def run(self, interaction: Interaction) -> None:
        if interaction.guild_id is None:
            raise NotAllowed("This list belongs to a server.")
        # A DynamicItem is built by discord.py, not by the cog, so its services come from the client.
        client = interaction.client
        config = await client.guild_configs.get(interaction.guild_id)
        embed, view = await render_list_page(
            client.events,
            self.filters,
            guild_id=interaction.guild_id,
            timezone=config.timezone,
            now=client.clock.now(),
            page=self.page,
        )
        await interaction.response.edit_message(embed=embed, view=view)


# ---- the commands -------------------------------------------------------------------------


class EventListCommands:
    """Mixin of the Events cog: needs `events`, `configs` and `clock` on self."""

    events: EventRepository
    configs: GuildConfigRepository
    clock: Clock
    event_reviews: ReviewRepository

    @staff_autocomplete
    async def event_autocomplete(self, interaction: Interaction, current: str) -> list[app_commands.Choice[int]]:
        """Every `event` option: this guild's events by title, soonest first. On an organizer
        command, whoever the command would refuse is offered nothing (staff_autocomplete)."""
        return await matching_events(self.events, self.configs, interaction.guild_id, current, self.clock.now())

    async def managed_event_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        """`/event edit` and `/event cancel`: staff see every event, anyone else only the events
        they created (the creator may edit and cancel their own)."""
        if interaction.guild_id is None:
            return []
        try:
            await ensure_staff(interaction, organizers_allowed=True)
            created_by = None
        except NotAllowed:
            created_by = interaction.user.id
        config = await self.configs.get(interaction.guild_id)
        return await event_choices(
            self.events,
            interaction.guild_id,
            current,
            timezone=config.timezone,
            now=self.clock.now(),
            created_by=created_by,
        )

    @event_group.command(name="info", description="Show an event's details, counts and attendance")
    @app_commands.describe(event="The event (start typing its title)")
    @app_commands.autocomplete(event=event_autocomplete)
    async def event_info(self, interaction: Interaction, event: int) -> None:
        found = await find_event(self.events, interaction.guild_id, event)
        config = await self.configs.get(found.guild_id)
        counts = await self.events.count_rsvps(found.id)
        attended = await self.events.count_attendance(found.id)
        reviews = await self.event_reviews.summary(found.id)
        embed = info_embed(found, counts, attended, timezone=config.timezone, now=self.clock.now(), reviews=reviews)
        await send_reply(interaction, embed=embed)

    @event_group.command(name="list", description="List this server's events, with filters and pages")
    @app_commands.describe(
        when="upcoming (default), active (happening now), past (ended or cancelled) or all",
        search="Words from the title, description or location",
        from_="First day to list, in the server's time zone (like 2027-03-14 or next friday)",
        to="Last day to list, included (like 2027-03-31)",
    )
    @app_commands.rename(from_="from")
    @app_commands.choices(when=WHEN_CHOICES)
    async def event_list(
        self,
        interaction: Interaction,
        when: app_commands.Choice[str] | None = None,
        search: app_commands.Range[str, 1, 100] | None = None,
        from_: app_commands.Range[str, 1, 100] | None = None,
        to: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        if interaction.guild_id is None:
            raise NotAllowed("This command only works inside a server.")
        config = await self.configs.get(interaction.guild_id)
        now = self.clock.now()
        chosen = when.value if when is not None else "upcoming"
        filters = read_filters(chosen, search, from_, to, timezone=config.timezone, now=now)
        embed, view = await render_list_page(
            self.events, filters, guild_id=interaction.guild_id, timezone=config.timezone, now=now, page=0
        )
        await send_reply(interaction, embed=embed, view=view)


# The one autocomplete of every `event` option. Defined in the class, so discord.py passes the
# command's cog as `self`: the Events cog, or any cog holding `events`, `configs` and `clock`.
event_autocomplete = EventListCommands.event_autocomplete
managed_event_autocomplete = EventListCommands.managed_event_autocomplete
