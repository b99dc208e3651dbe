# herald's one entry point for builds and tests. `make help` lists every target.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)
# Tests run long on 2 cores: the e2e suite starts real servers.
TEST_TIMEOUT ?= 40m

.PHONY: help help-check build run test test-unit lint fuzz fuzz-parsers bench load soak servers docker clean docs docs-check \
	release release-test pin notice notice-check chart-docs chart-docs-check

help: ## list every target
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/herald
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/herald ./cmd/herald

run: ## build herald, start a local test cluster if none is reachable, and stream sample events to the log sink
	hack/run.sh

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd hack/release && $(GO) vet ./...

servers: ## build or install every test server (cached under ${XDG_CACHE_HOME:-~/.cache}/herald)
	hack/servers.sh

docs: ## regenerate docs/sinks/reference/ (every sink's parameters, from the code); commit the result
	rm -rf docs/sinks/reference
	$(GO) run ./cmd/herald sinks --out=docs/sinks/reference

docs-check: ## fail when docs/sinks/reference/ differs from what make docs writes
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(GO) run ./cmd/herald sinks --out="$$tmp" || exit 1; \
	if ! out=$$(diff -rq "$$tmp" docs/sinks/reference 2>&1); then \
		echo "docs/sinks/reference/ is out of date (generated from the sink definitions):"; \
		echo "$$out" | sed -e "s|$$tmp|(generated)|g" -e 's/^/  /'; \
		echo "run \`make docs\` and commit the result"; exit 1; \
	fi

chart-docs: ## regenerate the chart's values.schema.json and README.md from values.yaml, and its copies of deploy/prometheus, deploy/grafana and deploy/crds (and deploy/kubernetes/crds.yaml)
	$(GO) run ./hack/chartdoc

chart-docs-check: ## fail when the chart's schema, README or copies are stale (make chart-docs)
	$(GO) run ./hack/chartdoc -check

help-check: ## fail when a target lacks a description, so make help lists every target
	@bad=$$(grep -hE '^[a-zA-Z_-]+:' $(MAKEFILE_LIST) | grep -v '## ' | cut -d: -f1); if [ -n "$$bad" ]; then echo "targets without a '## description' (make help would not list them): $$bad"; exit 1; fi

test: help-check ## lint, docs-check, build, then the unit tests (fuzz seeds included) while the test servers build, then the e2e suite against them (what CI runs, then make fuzz-parsers)
	GO=$(GO) TEST_TIMEOUT=$(TEST_TIMEOUT) MAKE=$(MAKE) hack/test.sh

test-unit: ## unit tests of the packages that need no test server (-short; a quick loop)
	GO=$(GO) hack/test.sh --unit

fuzz: ## fuzz every target for $(FUZZTIME) (default 3s) each; a crasher is written under the package's testdata/fuzz/ (commit it as a seed)
	GO=$(GO) FUZZTIME=$(or $(FUZZTIME),3s) hack/fuzz.sh

fuzz-parsers: ## fuzz every parser (--sink values of every sink type, templates, checkpoints, --source, event-exporter configs) for 5s each from its seeds; CI runs it after make test
	CGO_ENABLED=0 GOFLAGS=-trimpath GO=$(GO) FUZZTIME=$(or $(FUZZTIME),5s) hack/fuzz.sh --ci

bench: ## benchmarks of the hot path
	$(GO) test -run '^$$' -bench . -benchmem ./core/... ./common/... ./sources/...

load: build ## end-to-end load scenarios (steady 200/s, bursts, 20,000-event storm with one request per event and batched, dead sink, start-up with 50,000 events, 10 sinks, a resume of 100,000 events into a slow receiver) against a local cluster; results in _output/load
	source <(hack/servers.sh --env) && $(GO) run ./test/load -herald bin/herald -out _output/load
	source <(hack/servers.sh --env) && $(GO) run ./test/load -herald bin/herald -out _output/load -resume-events 100000

SOAK ?= 1h
soak: build ## soak for $(SOAK) (default 1h): 50 events/s, a receiver outage every 10 minutes, an API server restart, a herald SIGKILL; created = delivered, duplicates, RSS per minute in _output/soak
	source <(hack/servers.sh --env) && $(GO) run ./test/load -herald bin/herald -out _output/soak -soak $(SOAK)

test-otlp-collector: ## build the OpenTelemetry Collector's OTLP receiver (minutes the first time, then cached) and run the otlp sink against it; not part of make test
	GO=$(GO) hack/otlp-collector.sh

docker: ## build the container image with a Docker engine (make release builds the same image without one)
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) --build-arg DATE=$(DATE) -t herald:$(VERSION) .

release: ## build the release into _output/release: binaries, multi-arch OCI image, SBOM, chart, checksums (VERSION=vX.Y.Z; docs/releasing.md)
	GO=$(GO) hack/release.sh $(VERSION)

release-test: ## test the image builder and the SBOM (hack/release): unpack a built image, run its binary
	cd hack/release && $(GO) test -count=1 ./...

pin: ## point the chart, the manifests and the README at VERSION=vX.Y.Z (before make release)
	hack/pin.sh $(VERSION)

notice: build ## regenerate NOTICE from the modules compiled into bin/herald; commit the result
	$(GO) run -C hack/release ./cmd/sbom -notice -binary $(CURDIR)/bin/herald > NOTICE

notice-check: build ## fail when NOTICE does not list the modules compiled into bin/herald
	@tmp=$$(mktemp); trap 'rm -f "$$tmp"' EXIT; \
	$(GO) run -C hack/release ./cmd/sbom -notice -binary $(CURDIR)/bin/herald > "$$tmp" || exit 1; \
	if ! diff -u NOTICE "$$tmp" >/dev/null; then diff -u NOTICE "$$tmp" | head -20; \
		echo "NOTICE is out of date (the modules compiled into herald changed): run \`make notice\` and commit it"; exit 1; fi

clean: ## remove build output (the server cache outside the clone is kept)
	rm -rf bin _output
