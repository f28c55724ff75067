"""`manage.py ingest_trip --vin VIN FILE [FILE ...]`: bulk back-fill of trip logs."""

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from core.errors import ApplicationError
from trips.models import Trip
from trips.services import trip_upload


class Command(BaseCommand):
    help = "Upload trip log files for one vehicle, as the system, and verify them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--vin", required=True)
        parser.add_argument("--format", choices=Trip.Format.values, default="")
        parser.add_argument("--crs", choices=Trip.Crs.values, default=Trip.Crs.WGS84)
        parser.add_argument("--mode", choices=Trip.Mode.values, default="")

    def handle(
        self,
        *args: Any,
        files: list[Path],
        vin: str,
        format: str,
        crs: str,
        mode: str,
        **options: Any,
    ) -> None:
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            raise CommandError(f"files: not found: {', '.join(missing)}")
        created = existing = 0
        for path in tqdm(files, unit="file", disable=len(files) < 2):
            try:
                trip, new = trip_upload(
                    actor=None,
                    vin=vin,
                    data=path.read_bytes(),
                    original_name=path.name,
                    declared_format=format,
                    crs=crs,
                    declared_mode=mode,
                )
            except (ApplicationError, ValidationError) as error:
                raise CommandError(f"{path}: {error}") from error
            created += new
            existing += not new
            trip.refresh_from_db()
            self.stdout.write(f"{path.name}: trip #{trip.pk} {trip.status}")
        self.stdout.write(f"{created} new, {existing} already uploaded")
