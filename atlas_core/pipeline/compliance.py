"""The compliance audit: each rule of the YouTube API policies with its status and evidence.

rules = await audit(settings, db, vault, now=datetime.now(UTC))
for rule in rules: print(rule.status, rule.name, rule.evidence)
broken = [r for r in rules if r.status == BROKEN]

Statuses: ``ok``, ``broken`` (a policy is violated now), ``warn`` (worth a look, not a
violation), ``off`` (the rule does not apply with these settings).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from atlas_core.config import Settings
from atlas_core.database import DatabaseManager
from atlas_core.storage import VaultError, VaultStrategy
from atlas_core.storage.scrub import evidence_videos, partition_ids, vault_summary
from atlas_core.store.retention import (
    fenced_rows,
    is_forgotten,
    last_event,
    missing_past_grace,
    oldest_per_table,
    pending_forget_requests,
    pending_missing,
    stored_video_ids,
)

OK, BROKEN, WARN, OFF = "ok", "broken", "warn", "off"


@dataclass(frozen=True)
class Rule:
    name: str
    status: str
    evidence: str


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


FENCE_RULE = "nothing stored of a forgotten or never-watched channel"


def _fence_rule(rows: dict[str, int], vault: dict[str, int] | None) -> Rule:
    found = [f"{t}={n}" for t, n in sorted(rows.items())]
    found += [f"vault {k}={n}" for k, n in sorted((vault or {}).items()) if n]
    if vault is None:
        return Rule(
            FENCE_RULE,
            BROKEN,
            "the vault could not be read; " + (", ".join(found) or "no row in the database"),
        )
    if found:
        return Rule(FENCE_RULE, BROKEN, "found: " + ", ".join(found))
    return Rule(FENCE_RULE, OK, "no row in any table nor object in the vault")


async def _vault_fenced(db: DatabaseManager, vault: VaultStrategy) -> dict[str, int]:
    """Vault objects naming a forgotten channel or video, and evidence of videos not stored."""
    folders = await asyncio.to_thread(evidence_videos, vault)
    named = await asyncio.to_thread(partition_ids, vault)
    async with db.get_connection() as conn:
        stored = set(await stored_video_ids(conn, sorted(folders)))
        forgotten_evidence = await is_forgotten(conn, sorted(folders))
        partition_hits = 0
        for ids in named.values():
            partition_hits += len(await is_forgotten(conn, sorted(ids)))
    orphans = set(folders) - stored
    return {
        "evidence folders of videos not stored": len(orphans | set(forgotten_evidence)),
        "partition ids of forgotten channels or videos": partition_hits,
    }


async def audit(
    settings: Settings, db: DatabaseManager, vault: VaultStrategy, now: datetime | None = None
) -> list[Rule]:
    now = now or datetime.now(UTC)
    days = settings.retention_days
    rules: list[Rule] = []
    keys = len(settings.api_keys)
    configured = len(settings.model_copy(update={"COMPLIANCE_MODE": False}).api_keys)
    if settings.COMPLIANCE_MODE:
        rules.append(
            Rule(
                "one API project (III.D.1.c)",
                OK if keys <= 1 else BROKEN,
                f"{keys} key(s) in use of {configured} configured",
            )
        )
        rules.append(
            Rule(
                "no audiovisual content (III.E.1)",
                OK,
                "frames come only from the thumbnail URLs the API publishes",
            )
        )
    else:
        rules.append(
            Rule(
                "one API project (III.D.1.c)", OFF, f"COMPLIANCE_MODE is off: {keys} key(s) in use"
            )
        )
    async with db.get_connection() as conn:
        oldest = await oldest_per_table(conn)
        grace = now - timedelta(days=settings.MISSING_GRACE_DAYS)
        overdue = await missing_past_grace(conn, grace)
        pending = await pending_missing(conn)
        forgets = await pending_forget_requests(conn)
        last = await last_event(conn, "retention.applied")
        fenced = await fenced_rows(conn)
    try:  # the audit certifies: a vault it cannot read fails it, never passes as empty
        summary = await asyncio.to_thread(vault_summary, vault)
        vault_fenced = await _vault_fenced(db, vault)
    except VaultError as exc:
        rules.append(Rule("vault readable by the audit", BROKEN, str(exc)))
        summary = {"partitions": {}, "oldest_partition": None, "evidence_videos": 0}
        vault_fenced = None
    rules.append(_fence_rule(fenced, vault_fenced))
    if days is None:
        rules.append(Rule("30-day refresh or delete (III.E.4)", OFF, "RETENTION_DAYS is not set"))
    else:
        cutoff = now - timedelta(days=days)
        stale = {t: m for t, m in oldest.items() if m is not None and _aware(m) < cutoff}
        shown = ", ".join(
            f"{t}={_aware(m).date().isoformat() if m else '-'}" for t, m in oldest.items()
        )
        rules.append(
            Rule(
                f"data refreshed within {days} days (III.E.4)",
                BROKEN if stale else OK,
                (f"older than {cutoff.date()}: {', '.join(sorted(stale))}; " if stale else "")
                + f"oldest per table: {shown}",
            )
        )
        oldest_day = summary["oldest_partition"]
        old_vault = oldest_day is not None and oldest_day < cutoff.date()  # type: ignore[operator]
        rules.append(
            Rule(
                f"vault within {days} days (III.E.4)",
                BROKEN if old_vault else OK,
                f"partitions {summary['partitions']}, oldest {oldest_day or '-'}, "
                f"evidence for {summary['evidence_videos']} video(s)",
            )
        )
    late = len(overdue.channels) + len(overdue.videos)
    rules.append(
        Rule(
            f"deleted at the source purged within {settings.MISSING_GRACE_DAYS} days",
            BROKEN if late else OK,
            f"marked missing: {pending['channels']} channel(s), {pending['videos']} video(s); "
            f"past the grace period: {late}",
        )
    )
    rules.append(
        Rule(
            "forget requests completed",
            BROKEN if forgets else OK,
            f"{len(forgets)} unfinished (re-run `atlas forget` on them)"
            if forgets
            else "none pending",
        )
    )
    if last is None:
        rules.append(Rule("retention runs daily", WARN if days else OFF, "never ran"))
    else:
        when, payload = last
        age = now - _aware(when)
        deleted = sum(int(v) for v in (payload or {}).get("deleted", {}).values())
        rules.append(
            Rule(
                "retention runs daily",
                OK if age <= timedelta(days=2) else WARN,
                f"last run {_aware(when).isoformat(timespec='seconds')}, {deleted} item(s) deleted",
            )
        )
    return rules
