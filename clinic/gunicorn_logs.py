"""gunicorn's logs in the application's format (``clinic.json_logs``): its own messages
and its access log as JSON lines (gunicorn.conf.py names this class as ``logger_class``).

An access line has the method, the path without its query string (queries carry what
people search for: a patient's name on the staff search, a doctor's name), the status,
the bytes sent, the duration and the request id the application gave the response
(``X-Request-ID``). Neither the client's address nor the referrer (which holds the
previous page's query string) nor the user agent is written: the proxy in front keeps its
own access log for abuse, with its own retention.
"""

from typing import Any

from gunicorn import glogging

from clinic.json_logs import JsonFormatter


class JsonLogger(glogging.Logger):  # type: ignore[misc]
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        headers = {str(name).lower(): value for name, value in resp.headers}
        method = environ.get("REQUEST_METHOD", "-")
        path = environ.get("PATH_INFO", "-")
        http = {
            "method": method,
            "path": path,
            "status": int(status),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
        }
        try:
            self.access_log.info(
                "%s %s %s",
                method,
                path,
                status,
                extra={"http": http, "request_id": headers.get("x-request-id")},
            )
        except Exception:
            self.error_log.exception("Writing the access log failed")
