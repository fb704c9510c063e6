// Package deploy holds posthub's deployment files, not Go code: the container image
// (Dockerfile), a Docker Compose stack for one machine (compose.yaml: PostgreSQL,
// migrations, two API replicas behind nginx, a worker, Prometheus, Grafana and a
// mail sink), the Prometheus scrape and alert rules, the Grafana dashboard, and
// Kubernetes manifests (k8s/, applied with kustomize, PostgreSQL by CloudNativePG).
//
// Its only Go code reads the PromQL out of the dashboards and the alert rules
// (DashboardQueries, AlertQueries, MetricNames), for the tests: its own check that every
// file parses and that they only query metrics the service exports (internal/metrics),
// and cmd/posthub's that a server's first scrape already has each of them. See
// README.md.
package deploy
