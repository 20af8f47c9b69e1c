from atlas_core.database import DatabaseManager


async def test_pool_round_trip(db: DatabaseManager) -> None:
    async with db.get_connection() as conn:
        cur = await conn.execute("SELECT count(*) FROM channels")
        assert (await cur.fetchone()) == (0,)
    assert await db.health_check()
