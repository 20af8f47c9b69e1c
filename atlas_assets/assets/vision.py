"""Frame vectors of video thumbnails, and the re-upload hunt they feed: an asset, its own
job (pool ``vision``, never ``youtube_api``) and the sensor that launches it once discovery
or a refresh has stored videos without vectors. A stats refresh never waits on it."""

from dagster import (
    AssetExecutionContext,
    AssetSelection,
    DefaultSensorStatus,
    MaterializeResult,
    MetadataValue,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    asset,
    define_asset_job,
    in_process_executor,
    sensor,
)

from atlas_assets.assets.youtube import HOURLY, stopwatch
from atlas_assets.catalog import OWNERS, table_definition, table_metadata, tags
from atlas_assets.resources import (
    DatabaseResource,
    VaultResource,
    YouTubeResource,
)
from atlas_assets.runtime import active_run_id, md_table, sensor_dsn, services
from atlas_core.pipeline import embed_new_videos
from atlas_core.store.tables import row_count
from atlas_core.store.vectors import hunt_queue, videos_without_vectors_by_reason

# The hunt is CPU work (decode, embed, compare) with one small API call per 50 videos: its
# own pool, so the refresh and discovery runs holding ``youtube_api`` never queue behind it.
HUNT_POOL = "vision"


@asset(
    group_name="vision",
    deps=["videos"],
    pool=HUNT_POOL,
    owners=OWNERS,
    kinds={"postgres", "pgvector", "youtube"},
    tags=tags("vision", "hourly"),
    metadata=table_definition("video_vectors"),
    freshness_policy=HOURLY,
    description="One row per frame of a video's published thumbnails: a 512-d vector "
    "(pgvector, HNSW index). A copy of another channel's video (verified by compare) "
    "alerts HUNT once, with side-by-side evidence in the vault. Runs as its own job "
    "(hunt_reuploads), launched by hunt_sensor when new videos are stored.",
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
                without = await videos_without_vectors_by_reason(conn)
    pairs = sorted({(m.video_id, m.match_video_id, f"{m.distance:.4f}") for m in run.matches})
    return MaterializeResult(
        metadata={
            **table_metadata("video_vectors", rows),
            "videos_embedded": run.videos,
            "vectors": run.vectors,
            "suspected_reuploads": len(pairs),
            "comparisons": run.comparisons,
            "candidates_beyond_gate": run.gated,
            "quota_units": run.units,
            "seconds": took["seconds"],
            "stage_seconds": MetadataValue.json(run.stages),
            # Watched videos still without vectors, and why (pending, retrying, gone...).
            "videos_without_vectors": MetadataValue.json(without),
            "matches": MetadataValue.md(md_table(("video", "looks like", "distance"), pairs)),
        }
    )


hunt_job = define_asset_job(
    "hunt_reuploads",
    selection=AssetSelection.assets("video_vectors"),
    description="Embed the thumbnails of newly stored videos and hunt them for re-uploads.",
    tags={"dagster/max_retries": "0"},
    executor_def=in_process_executor,  # one step: no step process to start (atlas_assets/jobs.py)
)


@sensor(
    name="hunt_sensor",
    job=hunt_job,
    minimum_interval_seconds=20,
    default_status=DefaultSensorStatus.RUNNING,
    description="Requests a hunt run when discovery or a refresh has stored videos without "
    "vectors (one run per new queue head; retries of failed thumbnails come due by "
    "themselves).",
)
def hunt_sensor(
    context: SensorEvaluationContext, database: DatabaseResource
) -> RunRequest | SkipReason:
    dsn = sensor_dsn(database)
    if isinstance(dsn, SkipReason):
        return dsn
    waiting, queue = hunt_queue(dsn)
    if not waiting:
        return SkipReason("no video waiting for the hunt")
    active = active_run_id(context, hunt_job.name)
    if active:
        return SkipReason(f"{waiting} videos waiting; hunt run {active} in progress")
    key = f"hunt-{waiting}-{queue}"
    if context.cursor == key:
        return SkipReason(f"{waiting} videos waiting; a run was already requested for them")
    context.update_cursor(key)
    return RunRequest(run_key=key, tags={"atlas/hunt_waiting": str(waiting)})
