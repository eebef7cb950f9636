"""Bulk link operations: up to 1,000 links created, updated or deleted in one request, each with its own result.

Creating runs every item through the same validation as `POST /v1/links` (mask.link.service: the WHATWG URL
rules, MASK's own domains refused, slugs, tags, the daily cap), then writes the whole batch with a handful of
statements: one for the links, one for their tags, one for the title fetches (each through the driver's bulk
path, mask.bulk.repository), one event. A bad item gets its own error and never aborts the others. An item with
a field this fast path does not know (or `if_exists: "return"`) goes through `link_service.create_or_find`
alone, in a savepoint.

Events: one `link.bulk_created` / `link.bulk_updated` / `link.bulk_deleted` per call, listing the links, instead
of one event per link. Redirect caches: each link is dropped (`LinkChanged`) up to `PER_LINK_SIGNALS` links;
above that, each domain touched is dropped as a whole (one message to the other workers instead of thousands).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mask import audit
from mask.bulk.repository import BulkRepository, chunks
from mask.bulk.schemas import BulkSet
from mask.config import Settings
from mask.domain import service as domain_service
from mask.event import service as event_service
from mask.kit.errors import FieldError, MaskError, ValidationFailed
from mask.kit.http import validation_failed
from mask.kit.ids import new_ids, random_strings
from mask.kit.reserved import is_reserved
from mask.kit.time import utcnow
from mask.link import service as link_service
from mask.link.schemas import LinkCreate, LinkUpdate
from mask.link.service import LinkNotFound, LinkView, NewLink, SlugTaken
from mask.models.link import Link
from mask.signals import LinkChanged, TitlesWanted, emit
from mask.tag import service as tag_service
from mask.tag.repository import TagRepository
from mask.workspace import members as workspace_members

PER_LINK_SIGNALS = 50
# The fields the fast path writes itself; an item sending any other goes through link_service alone.
FAST_FIELDS = frozenset(
    {
        "url",
        "slug",
        "domain",
        "title",
        "notes",
        "external_id",
        "tags",
        "expires_at",
        "expired_url",
        "archived",
        "disabled",
        "if_exists",
        *link_service.UTM_FIELDS,
    }
)
OnConflict = Literal["error", "skip", "rename", "overwrite"]
Kind = Literal["created", "updated", "deleted", "skipped", "failed"]


@dataclass
class Outcome:
    """One item's result: `view` when it was written, `error` when refused or skipped."""

    index: int
    kind: Kind
    status: int
    view: LinkView | None = None
    error: MaskError | None = None
    link_id: str | None = None
    note: str | None = None  # imports: what was done instead (`renamed from …`)


@dataclass
class _Pending:
    index: int
    new: NewLink
    created_at: datetime | None
    slug: str | None = None
    note: str | None = None


@dataclass
class _Batch:
    settings: Settings
    workspace_id: str
    on_conflict: OnConflict
    outcomes: dict[int, Outcome] = field(default_factory=dict)

    def fail(self, index: int, error: MaskError) -> None:
        self.outcomes[index] = Outcome(index=index, kind="failed", status=error.status_code, error=error)

    def skip(self, index: int, error: MaskError, link_id: str | None = None) -> None:
        self.outcomes[index] = Outcome(
            index=index, kind="skipped", status=error.status_code, error=error, link_id=link_id
        )


def parse_item(raw: Any) -> LinkCreate | MaskError:
    """One element of a bulk create body: a LinkCreate, or the 422/400 it would have got alone."""
    if not isinstance(raw, dict):
        return ValidationFailed.single("body", "invalid_item", "Each item is a JSON object with at least `url`.")
    try:
        return LinkCreate.model_validate(raw)
    except ValidationError as error:
        return validation_failed(error.errors())


_LINK_CREATES: TypeAdapter[list[LinkCreate]] = TypeAdapter(list[LinkCreate])


def parse_items(raws: Sequence[Any]) -> list[LinkCreate | MaskError]:
    """Every element of a bulk create body as `parse_item` reads it. All of them at once first (one call into
    pydantic's core instead of a thousand: less than half the time); when any is refused, one by one, so that
    each bad item gets the error it would have got alone."""
    if all(isinstance(raw, dict) for raw in raws):
        try:
            return list(_LINK_CREATES.validate_python(raws))
        except ValidationError:
            pass
    return [parse_item(raw) for raw in raws]


def _slug_taken(domain: str, slug: str) -> SlugTaken:
    return SlugTaken(f"The slug `{slug}` is already taken on {domain}.", param="slug")


def _random_slugs(count: int) -> Iterator[str]:
    """Random slugs as `POST /v1/links` draws them, `count` from one read of the system's randomness, then
    more as needed (a reserved word or a collision asks for another)."""
    while True:
        yield from random_strings(count, link_service.GENERATED_SLUG_LENGTH)
        count = 16


async def create_many(
    session: AsyncSession,
    *,
    settings: Settings,
    workspace_id: str,
    items: Sequence[LinkCreate | MaskError],
    created_at: Sequence[datetime | None] | None = None,
    on_conflict: OnConflict = "error",
    dry_run: bool = False,
    record_event: bool = True,
) -> list[Outcome]:
    """Create links, each validated as `POST /v1/links` would; one outcome per item, in order. A taken slug is
    refused (`error`), left alone (`skip`), given a generated slug (`rename`) or, when the link is this
    workspace's own, updated to the item (`overwrite`). `dry_run` checks everything and writes nothing."""
    domain_service.remember_lookups(session)
    await domain_service.screen_destinations(
        session,
        raws=[
            url
            for item in items
            if isinstance(item, LinkCreate)
            for url in (item.url, item.expired_url)
            if url is not None
        ],
    )
    batch = _Batch(settings=settings, workspace_id=workspace_id, on_conflict=on_conflict)
    pending: list[_Pending] = []
    alone: list[int] = []
    for index, raw in enumerate(items):
        if isinstance(raw, MaskError):
            batch.fail(index, raw)
            continue
        item = raw
        if item.model_fields_set - FAST_FIELDS or item.if_exists == "return":
            alone.append(index)
            continue
        try:
            new = await link_service.validate_new(session, settings, workspace_id, item)
        except MaskError as error:
            batch.fail(index, error)
            continue
        pending.append(_Pending(index=index, new=new, created_at=created_at[index] if created_at else None))
    pending = await _allowed(session, batch, pending)
    overwrite = await _resolve_slugs(session, batch, pending)
    pending = [item for item in pending if item.index not in batch.outcomes]
    await _check_external_ids(session, batch, pending)
    pending = [item for item in pending if item.index not in batch.outcomes]
    if dry_run:
        for waiting in pending:
            batch.outcomes[waiting.index] = Outcome(index=waiting.index, kind="created", status=201, note=waiting.note)
        for index in alone + [index for index, _link_id in overwrite]:
            batch.outcomes.setdefault(index, Outcome(index=index, kind="created", status=201))
        return [batch.outcomes[index] for index in range(len(items))]
    await _write(session, batch, pending)
    for index in alone:
        await _create_alone(session, batch, index, _valid(items[index]))
    for index, link_id in overwrite:
        await _overwrite(session, batch, index, link_id, _valid(items[index]))
    outcomes = [batch.outcomes[index] for index in range(len(items))]
    written = [outcome.view for outcome in outcomes if outcome.view is not None and outcome.kind == "created"]
    if written and record_event:
        await _record(session, workspace_id, "link.bulk_created", [view.link for view in written])
    return outcomes


def _valid(item: LinkCreate | MaskError) -> LinkCreate:
    assert isinstance(item, LinkCreate)
    return item


async def _allowed(session: AsyncSession, batch: _Batch, pending: list[_Pending]) -> list[_Pending]:
    """The daily cap of a workspace no owner of which has verified an e-mail address, item by item."""
    if not pending or await workspace_members.is_verified(session, workspace_id=batch.workspace_id):
        return pending
    allowed = []
    for item in pending:
        try:
            await link_service.check_may_create(session, settings=batch.settings, workspace_id=batch.workspace_id)
        except MaskError as error:
            batch.fail(item.index, error)
            continue
        allowed.append(item)
    return allowed


async def _resolve_slugs(session: AsyncSession, batch: _Batch, pending: list[_Pending]) -> list[tuple[int, str]]:
    """Give every item its slug: the one sent when free (the first of the batch to ask wins), else what
    `on_conflict` says; a generated one otherwise. Returns the items to overwrite (index, this workspace's link)."""
    repository = BulkRepository(session)
    owners = await repository.slug_owners((item.new.domain, item.new.slug) for item in pending if item.new.slug)
    claimed: set[tuple[str, str]] = set()
    overwrite: list[tuple[int, str]] = []
    renamed: list[_Pending] = []
    for item in pending:
        if item.new.slug is None:
            continue
        key = (item.new.domain, item.new.slug)
        if key not in owners and key not in claimed:
            item.slug = item.new.slug
            claimed.add(key)
            continue
        owner = owners.get(key)
        if batch.on_conflict == "skip":
            batch.skip(item.index, _slug_taken(*key), link_id=owner[1] if owner else None)
        elif batch.on_conflict == "rename":
            item.note = f"renamed from {item.new.slug}"
            renamed.append(item)
        elif batch.on_conflict == "overwrite" and owner is not None and owner[0] == batch.workspace_id:
            overwrite.append((item.index, owner[1]))
            batch.outcomes[item.index] = Outcome(index=item.index, kind="updated", status=200)
        else:  # another workspace's slug is never overwritten
            batch.fail(item.index, _slug_taken(*key))
    await _generate_slugs(repository, [item for item in pending if item.new.slug is None] + renamed, claimed)
    return overwrite


async def _generate_slugs(repository: BulkRepository, items: list[_Pending], claimed: set[tuple[str, str]]) -> None:
    """Random slugs for `items`, checked against the batch and the database in one query per round."""
    waiting = items
    for _ in range(link_service.GENERATION_ATTEMPTS):
        if not waiting:
            return
        slugs = _random_slugs(len(waiting))
        for item in waiting:
            slug = next(slugs)
            while is_reserved(slug) or (item.new.domain, slug) in claimed:
                slug = next(slugs)
            item.slug = slug
            claimed.add((item.new.domain, slug))
        taken = await repository.slug_owners((item.new.domain, item.slug) for item in waiting if item.slug)
        waiting = [item for item in waiting if (item.new.domain, item.slug) in taken]
    raise MaskError("Could not find free random slugs; try again.", code="slug_generation_failed")


async def _check_external_ids(session: AsyncSession, batch: _Batch, pending: list[_Pending]) -> None:
    wanted = [item.new.external_id for item in pending if item.new.external_id is not None]
    if not wanted:
        return
    taken = await BulkRepository(session).external_ids_taken(batch.workspace_id, wanted)
    for item in pending:
        external_id = item.new.external_id
        if external_id is None:
            continue
        if external_id in taken:
            batch.fail(item.index, link_service.external_id_taken(external_id))
        taken.add(external_id)  # the first of the batch to ask wins


def _scalar_default(column: Any) -> Any:
    default = column.default
    return default.arg if default is not None and getattr(default, "is_scalar", False) else None


# What a column holds when the insert did not name it (its scalar default, else NULL).
_LINK_DEFAULTS = {column.key: _scalar_default(column) for column in Link.__table__.columns}


def _transient(row: dict[str, Any]) -> Link:
    """A Link holding the inserted row, for the answer: built without the ORM's per-attribute events (a
    thousand `Link(**row)` cost more than inserting them), detached from the session like a loaded row."""
    link: Link = Link.__mapper__.class_manager.new_instance()
    link.__dict__.update(_LINK_DEFAULTS | row)
    return link


def _row(batch: _Batch, item: _Pending, link_id: str, now: datetime, actor: audit.Actor) -> dict[str, Any]:
    new = item.new
    when = item.created_at or now
    return {
        "id": link_id,
        "workspace_id": batch.workspace_id,
        "domain": new.domain,
        "slug": item.slug,
        "url": new.url,
        "title": new.title,
        "title_source": "user" if new.title is not None else None,
        "notes": new.notes,
        "external_id": new.external_id,
        "expires_at": new.expires_at,
        "expired_url": new.expired_url,
        "archived": new.archived,
        "disabled": new.disabled,
        "clicks": 0,
        "created_at": when,
        "updated_at": when,
        "created_by_user_id": actor.user_id,
        "created_by_key_id": actor.id if actor.kind == "api_key" else None,
        **{name: new.utm.get(name) for name in link_service.UTM_FIELDS},
    }


async def _write(session: AsyncSession, batch: _Batch, pending: list[_Pending]) -> None:
    """Insert the batch's links, tags and title fetches with multi-row statements. A row that lost a race since
    the checks (a slug or external id taken meanwhile) sends the batch down the row-by-row path."""
    if not pending:
        return
    repository = BulkRepository(session)
    now = utcnow()
    actor = audit.actor_of(session)
    rows = [
        _row(batch, item, link_id, now, actor)
        for item, link_id in zip(pending, new_ids("lnk", len(pending)), strict=True)
    ]
    try:
        async with session.begin_nested():
            await repository.insert_links(rows)
        written = list(zip(pending, rows, strict=True))
    except IntegrityError:
        written = []
        for item, row in zip(pending, rows, strict=True):
            try:
                async with session.begin_nested():
                    await repository.insert_links([row])
            except IntegrityError:
                external_id = item.new.external_id
                if external_id is not None and await repository.external_ids_taken(batch.workspace_id, [external_id]):
                    batch.fail(item.index, link_service.external_id_taken(external_id))
                else:
                    batch.fail(item.index, _slug_taken(item.new.domain, str(item.slug)))
                continue
            written.append((item, row))
    names = sorted({name for item, _row_ in written for name in item.new.tags})
    tag_ids: dict[str, str] = {}
    tags = TagRepository(session)
    for names_part in chunks(names):
        tag_ids.update(zip(names_part, await tags.ensure(batch.workspace_id, list(names_part)), strict=True))
    link_tag_rows = [{"link_id": row["id"], "tag_id": tag_ids[name]} for item, row in written for name in item.new.tags]
    await repository.insert_link_tags(link_tag_rows)
    if batch.settings.title_fetch_enabled:
        fetches = [
            {"link_id": row["id"], "url": row["url"], "attempts": 0, "next_attempt_at": now, "created_at": now}
            for item, row in written
            if item.new.title is None
        ]
        await repository.insert_title_fetches(fetches)
        if fetches:
            emit(session, TitlesWanted())
    for item, row in written:
        view = LinkView(link=_transient(row), tags=sorted(item.new.tags))
        batch.outcomes[item.index] = Outcome(
            index=item.index, kind="created", status=201, view=view, link_id=row["id"], note=item.note
        )
    _changed(session, [(str(row["domain"]), str(row["slug"])) for _item, row in written])


async def _create_alone(session: AsyncSession, batch: _Batch, index: int, item: LinkCreate) -> None:
    try:
        async with session.begin_nested():
            view, created = await link_service.create_or_find(
                session, settings=batch.settings, workspace_id=batch.workspace_id, data=item
            )
    except MaskError as error:
        batch.fail(index, error)
        return
    batch.outcomes[index] = Outcome(
        index=index, kind="created" if created else "skipped", status=201 if created else 200, view=view
    )


async def _overwrite(session: AsyncSession, batch: _Batch, index: int, link_id: str, item: LinkCreate) -> None:
    """An import's `on_conflict: overwrite`: this workspace's link at the slug takes the item's fields."""
    data = LinkUpdate.model_validate(item.model_dump(include=item.model_fields_set - {"if_exists", "slug", "domain"}))
    try:
        async with session.begin_nested():
            view = await link_service.update(
                session, settings=batch.settings, workspace_id=batch.workspace_id, link_id=link_id, data=data
            )
    except MaskError as error:
        batch.fail(index, error)
        return
    batch.outcomes[index] = Outcome(index=index, kind="updated", status=200, view=view, link_id=link_id)


def _changed(session: AsyncSession, links: list[tuple[str, str]]) -> None:
    """Drop what redirect caches hold for these links: each one, or for a big batch each domain as a whole."""
    if len(links) <= PER_LINK_SIGNALS:
        for domain, slug in links:
            emit(session, LinkChanged(domain, slug))
        return
    for domain in sorted({domain for domain, _slug in links}):
        emit(session, LinkChanged(domain))


async def _record(session: AsyncSession, workspace_id: str, type: str, links: list[Link]) -> None:
    await event_service.record(
        session,
        workspace_id=workspace_id,
        type=type,
        data={
            "count": len(links),
            "links": [
                {"id": link.id, "short_url": link_service.short_url(link.domain, link.slug), "url": link.url}
                for link in links
            ],
        },
    )


# --- update and delete ------------------------------------------------------------------------------------------


async def _targets(
    session: AsyncSession, workspace_id: str, ids: Sequence[str] | None, external_ids: Sequence[str] | None
) -> tuple[list[tuple[int, Link | None, str]], dict[str, Link]]:
    """Each named link in request order: (index, the link or None when not this workspace's, the name)."""
    repository = BulkRepository(session)
    if ids is not None:
        found = {link.id: link for link in await repository.links(workspace_id, ids=list(dict.fromkeys(ids)))}
        return [(index, found.get(name), name) for index, name in enumerate(ids)], found
    assert external_ids is not None
    links = await repository.links(workspace_id, external_ids=list(dict.fromkeys(external_ids)))
    by_external = {str(link.external_id): link for link in links}
    return [(index, by_external.get(name), name) for index, name in enumerate(external_ids)], {
        link.id: link for link in links
    }


def _not_found(name: str, by_external_id: bool) -> LinkNotFound:
    if by_external_id:
        return LinkNotFound(f"No link with the external id `{name}` in this workspace.", param="external_ids")
    return LinkNotFound(f"No link `{name}` in this workspace.", param="ids")


async def update_many(
    session: AsyncSession,
    *,
    settings: Settings,
    workspace_id: str,
    ids: Sequence[str] | None,
    external_ids: Sequence[str] | None,
    changes: BulkSet,
) -> list[Outcome]:
    """Apply `changes` to every named link of the workspace; a name that is not one is a 404 for that item. An
    invalid change is a 422 for the whole request (it would fail every item alike)."""
    domain_service.remember_lookups(session)
    sent = changes.model_fields_set
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    for name in ("archived", "disabled"):
        if name in sent:
            if getattr(changes, name) is None:
                errors.append(FieldError(f"set.{name}", "required", f"`{name}` is true or false, never null."))
            values[name] = getattr(changes, name)
    if "expires_at" in sent:
        if changes.expires_at is not None and changes.expires_at <= utcnow():
            errors.append(FieldError("set.expires_at", "expiry_in_past", "`expires_at` must be in the future."))
        values["expires_at"] = changes.expires_at
    if "expired_url" in sent:
        values["expired_url"] = (
            await domain_service.check_destination(
                session, settings=settings, param="set.expired_url", raw=changes.expired_url, errors=errors
            )
            if changes.expired_url is not None
            else None
        )
    for name in link_service.UTM_FIELDS:
        if name in sent:
            values[name] = getattr(changes, name)
    add = tag_service.clean_names(changes.tags_add or [], errors)
    remove = tag_service.clean_names(changes.tags_remove or [], errors)
    if set(add) & set(remove):
        errors.append(FieldError("set.tags_remove", "conflicting_tags", "A tag cannot be both added and removed."))
    if not values and not add and not remove:
        errors.append(FieldError("set", "required", "Give at least one change in `set`."))
    if errors:
        raise ValidationFailed(errors)
    targets, found = await _targets(session, workspace_id, ids, external_ids)
    repository = BulkRepository(session)
    too_many: set[str] = set()
    if add:
        counts = await repository.tag_counts(list(found))
        tags = TagRepository(session)
        have = await tags.names_for_links(list(found))
        for link_id in found:
            extra = len(set(add) - set(have.get(link_id, [])))
            if counts.get(link_id, 0) + extra > tag_service.MAX_TAGS_PER_LINK:
                too_many.add(link_id)
    outcomes: list[Outcome] = []
    changed: list[Link] = []
    for index, link, name in targets:
        if link is None:
            outcomes.append(_failed(index, _not_found(name, ids is None)))
        elif link.id in too_many:
            error = ValidationFailed.single(
                "set.tags_add", "too_many_tags", f"A link can have at most {tag_service.MAX_TAGS_PER_LINK} tags."
            )
            outcomes.append(_failed(index, error, link.id))
        else:
            outcomes.append(Outcome(index=index, kind="updated", status=200, link_id=link.id))
            changed.append(link)
    changed_ids = list(dict.fromkeys(link.id for link in changed))
    if changed_ids:
        now = utcnow()
        await repository.update_links(changed_ids, {**values, "updated_at": now})
        if add:
            add_ids = await TagRepository(session).ensure(workspace_id, add)
            await repository.add_link_tags(
                [{"link_id": link_id, "tag_id": tag} for link_id in changed_ids for tag in add_ids]
            )
        if remove:
            remove_ids = list((await TagRepository(session).ids_by_name(workspace_id, remove)).values())
            await repository.remove_link_tags(changed_ids, remove_ids)
        fresh = {link.id: link for link in await repository.links(workspace_id, ids=changed_ids, fresh=True)}
        fresh_views = {view.link.id: view for view in await link_service.views(session, list(fresh.values()))}
        for outcome in outcomes:
            if outcome.kind == "updated" and outcome.link_id in fresh_views:
                outcome.view = fresh_views[outcome.link_id]
        await _record(session, workspace_id, "link.bulk_updated", [fresh[link_id] for link_id in changed_ids])
        _changed(session, [(link.domain, link.slug) for link in fresh.values()])
    return outcomes


def _failed(index: int, error: MaskError, link_id: str | None = None) -> Outcome:
    return Outcome(index=index, kind="failed", status=error.status_code, error=error, link_id=link_id)


async def delete_many(session: AsyncSession, *, workspace_id: str, ids: Sequence[str]) -> list[Outcome]:
    """Delete every named link of the workspace; a name that is not one is a 404 for that item."""
    targets, found = await _targets(session, workspace_id, ids, None)
    outcomes: list[Outcome] = []
    for index, link, name in targets:
        if link is None:
            outcomes.append(_failed(index, _not_found(name, False)))
        else:
            outcomes.append(Outcome(index=index, kind="deleted", status=200, link_id=link.id))
    if found:
        links = list(found.values())
        await _record(session, workspace_id, "link.bulk_deleted", links)
        await BulkRepository(session).delete_links([link.id for link in links])
        _changed(session, [(link.domain, link.slug) for link in links])
    return outcomes
