"""One router a resource; each route only calls a service and shapes its answer."""
