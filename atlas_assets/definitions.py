"""The one Definitions object Dagster loads (see workspace.yaml)."""

from dagster import Definitions

defs = Definitions(assets=[])
