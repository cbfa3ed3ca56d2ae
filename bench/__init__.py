"""Benchmarks of policywatch. ``python -m bench`` runs the whole-pipeline benchmark
(``bench.pipeline``); the older scripts (parse_bench, diff_bench, crawl_bench) measure one part."""
