"""Landing pages: ``GET /l/{slug}`` mints a uid per visit and records the click."""
