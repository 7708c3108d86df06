"""What the product tells its operators: structured logs (``log``) and Prometheus metrics (``metrics``)."""
