"""Frame vectors of video thumbnails, and the re-upload hunt they feed."""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from atlas_assets.assets.youtube import HOURLY, stopwatch
from atlas_assets.catalog import OWNERS, table_definition, table_metadata, tags
from atlas_assets.resources import (
    DatabaseResource,
    VaultResource,
    YouTubeResource,
)
from atlas_assets.runtime import md_table, services
from atlas_core.pipeline import embed_new_videos
from atlas_core.store.tables import row_count


@asset(
    group_name="vision",
    deps=["videos"],
    pool="youtube_api",
    owners=OWNERS,
    kinds={"postgres", "pgvector", "youtube"},
    tags=tags("vision", "hourly"),
    metadata=table_definition("video_vectors"),
    freshness_policy=HOURLY,
    description="One row per frame of a video's published thumbnails: a 512-d vector "
    "(pgvector, HNSW index). A copy of another channel's video (verified by compare) "
    "alerts HUNT once, with side-by-side evidence in the vault.",
)
async def video_vectors(
    context: AssetExecutionContext,
    database: DatabaseResource,
    youtube: YouTubeResource,
    vault: VaultResource,
) -> MaterializeResult:  # type: ignore[type-arg]  # dagster matches the bare class
    with stopwatch() as took:
        async with services(context, database, youtube=youtube, vault=vault) as svc:
            # The embedder is built on first use; build it first, so a bad VISION_MODEL_PATH
            # fails this step at once (only this one: no other step loads a model).
            context.log.info("embedder: %s", svc.embedder.name)
            run = await embed_new_videos(svc)
            async with svc.db.get_connection() as conn:
                rows = await row_count(conn, "video_vectors")
    pairs = sorted({(m.video_id, m.match_video_id, f"{m.distance:.4f}") for m in run.matches})
    return MaterializeResult(
        metadata={
            **table_metadata("video_vectors", rows),
            "videos_embedded": run.videos,
            "vectors": run.vectors,
            "suspected_reuploads": len(pairs),
            "quota_units": run.units,
            "seconds": took["seconds"],
            "matches": MetadataValue.md(md_table(("video", "looks like", "distance"), pairs)),
        }
    )
