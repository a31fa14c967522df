# homecloud — the two commands of the quick start are `make lab` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

export HOMECLOUD_CACHE ?= /var/cache/homecloud

.PHONY: help setup setup-test deps checkers toolchain lab lab-up lab-down lab-deploy test test-unit test-integration e2e typecheck

help:
	@echo "make lab         set up, build the emulated lab and deploy the lab stack to it (root)"
	@echo "make test        type check, unit tests, and (as root) the lab integration tests"
	@echo "make lab-down    tear the lab down"
	@echo "make e2e         real-engine gates on the lab stack (needs the toolchain: make toolchain)"

# Everything the tests need: Debian checkers and npm packages. Quick when already there.
setup-test: checkers deps

# Everything: also the Pulumi CLI and plugins (built from Go modules when offline; cached).
setup: setup-test toolchain

checkers:
	bash scripts/setup-checkers.sh

deps:
	bash scripts/setup-node.sh

toolchain: deps
	bash scripts/setup-toolchain.sh

typecheck: deps
	npx tsc --noEmit --noCheck false -p .

test-unit: setup-test typecheck
	npx mocha 'test/unit/**/*.test.ts'

# Integration tests need root (namespaces, nspawn); they bring the lab up and always tear it down.
test-integration: setup-test
	bash test/integration/run.sh

test: test-unit test-integration

lab-up: setup-test
	bash lab/up.sh

lab-down:
	bash lab/down.sh

lab-deploy:
	bash scripts/lab-deploy.sh

# The main job: tools, the lab, the lab stack deployed into it, stack outputs printed.
# The Pulumi CLI is tried but not required: where it cannot be had, the lab's SSH engine
# applies the same program (see scripts/lab-deploy.sh).
lab: setup-test
	bash scripts/setup-toolchain.sh || echo "lab: continuing without the Pulumi CLI"
	bash lab/up.sh
	bash scripts/lab-deploy.sh

# Real-engine gates on the lab stack; they need the Pulumi CLI and plugins.
e2e: setup
	bash lab/up.sh
	bash scripts/lab-stack.sh up
	bash scripts/lab-stack.sh preview --expect-no-changes
