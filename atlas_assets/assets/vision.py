"""Frame vectors of video thumbnails, and the re-upload hunt they feed."""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from atlas_assets.resources import (
    DatabaseResource,
    NotifierResource,
    VaultResource,
    YouTubeResource,
)
from atlas_assets.runtime import md_table, services
from atlas_core.pipeline import embed_new_videos


@asset(
    group_name="vision",
    deps=["videos"],
    pool="youtube_api",
    description="512-d vectors of each video's published thumbnails (pgvector, HNSW); "
    "near-duplicates from other channels alert HUNT.",
)
async def video_vectors(
    context: AssetExecutionContext,
    database: DatabaseResource,
    youtube: YouTubeResource,
    vault: VaultResource,
    notifier: NotifierResource,
) -> MaterializeResult:
    async with services(context, database, youtube, vault, notifier) as svc:
        run = await embed_new_videos(svc)
    pairs = sorted({(m.video_id, m.match_video_id, f"{m.distance:.4f}") for m in run.matches})
    return MaterializeResult(
        metadata={
            "videos_embedded": run.videos,
            "vectors": run.vectors,
            "suspected_reuploads": len(pairs),
            "quota_units": run.units,
            "matches": MetadataValue.md(md_table(("video", "looks like", "distance"), pairs)),
        }
    )
