"""Read models shared by the HTML pages, the REST API and the exports (one query path)."""
