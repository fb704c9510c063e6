// Package deploy holds posthub's deployment files, not Go code: the container image
// (Dockerfile), a Docker Compose stack for one machine (compose.yaml: PostgreSQL,
// migrations, two API replicas behind nginx, a worker, Prometheus, Grafana and a
// mail sink), the Prometheus scrape and alert rules, the Grafana dashboard, and
// Kubernetes manifests (k8s/, applied with kustomize, PostgreSQL by CloudNativePG).
//
// Its tests check that every file parses and that the dashboard and the alert rules
// only query metrics the service exports (internal/metrics). See README.md.
package deploy
