"""Operations: Prometheus metrics."""
