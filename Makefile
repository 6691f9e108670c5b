# The two commands the README promises: `make run` and `make test`.
SHELL := /bin/bash
GO    ?= go
FUZZTIME ?= 5s

.PHONY: run build build-static test test-go test-web fuzz vet docs docs-check client web web-deps web-build docker-steps bench bench-smoke

## run: start the product on SQLite with demo data (builds the SPA when npm is available)
run:
	@if command -v npm >/dev/null 2>&1 && [ -f web/package.json ] && [ ! -f web/dist/index.html ]; then $(MAKE) web; fi
	$(GO) run ./cmd/atendimento serve

build:
	CGO_ENABLED=0 $(GO) build -o bin/atendimento ./cmd/atendimento

# The Dockerfile's build stages run these targets (and `make docker-steps` runs the Dockerfile's
# RUN lines without Docker): the build commands live here only.
OUT ?= bin/atendimento
## build-static: the static binary the Docker image ships (OUT=path, default bin/atendimento)
build-static:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o $(OUT) ./cmd/atendimento

web: web-deps web-build

web-deps:
	cd web && npm ci --no-audit --no-fund

web-build:
	cd web && npm run build

## docker-steps: the Dockerfile's build steps as plain commands in a copy of the build context, then the runtime layout's smoke test (SKIP_WEB=1 reuses web/dist)
docker-steps:
	scripts/docker-build-steps.sh

## test: the whole suite (Go on SQLite, and on Postgres when TEST_DATABASE_URL is set; the SPA when npm is available)
# Every part runs even when an earlier one fails (with or without make -k), and the end lists the
# parts that failed, so one run shows everything to fix; the status is non-zero if any failed.
TEST_PARTS := test-go fuzz test-web bench-smoke
test:
	@failed=""; passed=""; \
	for part in $(TEST_PARTS); do \
	  echo "== make $$part"; \
	  if $(MAKE) --no-print-directory $$part; then passed="$$passed $$part"; else failed="$$failed $$part"; fi; \
	done; \
	echo; echo "make test: passed:$${passed:- none}"; \
	if [ -n "$$failed" ]; then echo "make test: FAILED:$$failed"; exit 1; fi; \
	echo "make test: every part passed"

test-go:
	$(GO) test -count=1 ./...

## bench: the performance suite of docs/benchmarks.md (~10 min; Postgres rows need TEST_DATABASE_URL); raw output in bench-out/
bench:
	$(GO) run ./cmd/atendimento-bench $(BENCHFLAGS)

# bench-smoke: every benchmark once at tiny sizes, so the suite cannot rot (not a pass/fail on the figures)
bench-smoke:
	$(GO) run ./cmd/atendimento-bench -smoke

# Each fuzz target runs for FUZZTIME on top of its seed corpus (and minimises a new input for at
# most as long). The ./api targets call the real handlers on SQLite; see api/fuzz_test.go.
# A failure that wrote no new input under testdata/fuzz is Go's own coordinator racing the
# FUZZTIME deadline (go.dev/issue/75804, unfixed in Go 1.26: "context deadline exceeded" with no
# crasher): it is reported and passed over. A failure that wrote an input is a finding: the input
# is now a seed, and the target is run once more to show it failing.
fuzz:
	@set -e; for spec in \
	  ./internal/phone:FuzzParse ./internal/phone:FuzzMatchKeys \
	  ./internal/template:FuzzRender ./internal/template:FuzzParseComponents \
	  ./internal/whatsapp:FuzzParseWebhook ./internal/whatsapp:FuzzVerifySignature \
	  ./api:FuzzStartConversation ./api:FuzzCreateContact ./api:FuzzPreview ./api:FuzzWebhookPost \
	  ./api:FuzzSandboxInbound ./api:FuzzJSONBodies; do \
	  pkg=$${spec%%:*}; fn=$${spec##*:}; corpus=$$pkg/testdata/fuzz/$$fn; \
	  echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
	  out=$$(mktemp); before=$$(ls $$corpus 2>/dev/null | sort); \
	  if ! $(GO) test $$pkg -run='^$$' -fuzz="^$$fn\$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZTIME) >$$out 2>&1; then \
	    cat $$out; \
	    if [ "$$(ls $$corpus 2>/dev/null | sort)" = "$$before" ]; then \
	      echo "fuzz $$fn: failed without writing an input (Go's fuzztime deadline race, go.dev/issue/75804): passed over"; \
	    else \
	      echo "fuzz $$fn: found an input (now a seed in $$corpus); running it once more"; \
	      $(GO) test $$pkg -run="^$$fn\$$"; \
	    fi; \
	  fi; \
	  rm -f $$out; \
	done

# The browser tests drive Debian's Chromium (apt-get install -y chromium); .ci/run installs it.
test-web:
	@if command -v npm >/dev/null 2>&1 && [ -f web/package.json ]; then \
	  cd web && npm ci --no-audit --no-fund && npm test && npm run build && \
	  if [ -x /usr/bin/chromium ]; then npm run test:e2e; \
	  else echo "/usr/bin/chromium not found: skipping the SPA's end-to-end tests"; fi; \
	else echo "npm not found: skipping the SPA tests"; fi

vet:
	$(GO) vet ./...

## docs: regenerate docs/ (swag) and openapi.yaml from the handlers' annotations, and the SPA's list of error codes
docs:
	$(GO) tool swag init -q -g server.go -d ./api,./internal/apperr -o docs --outputTypes json,yaml --parseInternal
	$(GO) run ./cmd/openapi-gen -in docs/swagger.json -out openapi.yaml
	$(GO) run ./cmd/errcodes -out web/src/i18n/errorCodes.gen.ts

## client: regenerate the Go client (pkg/atendimento/*.gen.go) from openapi.yaml
client:
	$(GO) generate ./pkg/atendimento

## docs-check: fail when docs/, openapi.yaml, the Go client or the SPA's API types are stale
docs-check: docs client
	@git diff --exit-code -- docs openapi.yaml web/src/i18n/errorCodes.gen.ts || { echo "docs/, openapi.yaml or the SPA's error codes are stale: run make docs and commit"; exit 1; }
	@git diff --exit-code -- 'pkg/atendimento/*.gen.go' || { echo "the Go client is stale: run make docs client and commit"; exit 1; }
	@if command -v npm >/dev/null 2>&1; then cd web && npm ci --no-audit --no-fund && npm run check:api; \
	else echo "npm not found: skipping the SPA's API types check"; fi
