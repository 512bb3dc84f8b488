# Monitoring (charts/kvs-operator/alerts, dashboards/): `promtool check rules` + `promtool test rules`
# (test/monitoring/alerts.test.yaml, with negative controls), the chart's PrometheusRule, and every
# dashboard panel's PromQL evaluated by a real Prometheus scraping a local 3-node cluster under load.
# Installs Debian's prometheus package when promtool is missing (scripts/test-monitoring.sh).
.PHONY: test-monitoring
TEST_TARGETS += test-monitoring

test-monitoring:
	@scripts/test-monitoring.sh
