# homecloud — the two commands of the quick start are `make lab` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

export HOMECLOUD_CACHE ?= /var/cache/homecloud
# Node.js 22 and the Pulumi CLI (when installed) first on PATH, for every recipe.
TOOLS := . scripts/toolchain-env.sh &&

.PHONY: help setup deps checkers toolchain typecheck diagram test test-unit test-checkers test-lab e2e e2e-if-present lab lab-up lab-down lab-deploy cluster-node test-cluster-node

help:
	@echo "make lab           build the emulated lab and deploy the lab stack to it (root)"
	@echo "make test          type check, then the unit, checker, cluster (where built) and lab tiers, then the real-engine gates if the Pulumi CLI is installed; one line per tier at the end"
	@echo "make test-unit     unit tier: no root, no network, no daemons (seconds)"
	@echo "make test-checkers checker tier: every rendered file through its daemon's checker, scripts on a real shell (root)"
	@echo "make test-lab      lab tier: builds the lab, deploys with the SSH engine, checks, tears down (root)"
	@echo "make e2e           real-engine gates on the lab stack (needs the Pulumi CLI: make toolchain)"
	@echo "make diagram STACK=<stack>  the picture of Pulumi.<stack>.yaml's network, as Pulumi.<stack>.svg (Graphviz)"
	@echo "make lab-down      tear the lab down"
	@echo "make cluster-node  build kubelet, containerd and the CNI plugins (Go module proxy), install runc (issue 23)"
	@echo "make test-cluster-node  containerd and a standalone kubelet run the project's pod in a namespace of their own (root)"

# Node.js 22 and the npm packages of package-lock.json.
deps:
	bash scripts/setup-node.sh

# Debian's daemons for their checkers (never started), shellcheck, iproute2, ssh, Graphviz,
# etcd; actionlint (Go module proxy) for the workflows; kube-apiserver and Helm built from the
# Go module proxy, and the pinned MetalLB, cert-manager and Traefik modules (charts, CRDs).
checkers:
	bash scripts/setup-checkers.sh
	bash scripts/setup-actionlint.sh
	bash scripts/setup-kube-checker.sh

setup: deps checkers

# The Pulumi CLI: found where the official install put it, or installed with HOMECLOUD_INSTALL_PULUMI=1.
toolchain: deps
	bash scripts/setup-toolchain.sh

# The program and its tests; then the example consumer with its own tsconfig, as Pulumi runs it.
typecheck: deps
	$(TOOLS) npx tsc --noEmit --noCheck false -p .
	$(TOOLS) npx tsc --noEmit --noCheck false -p examples/consumer

# The picture of a stack's address plan, validated as `up` would, drawn by Graphviz's dot
# (Debian's graphviz, installed by `make checkers`) next to the stack file.
diagram: deps
	@test -n "$(STACK)" || { echo "usage: make diagram STACK=<stack>   (draws Pulumi.<stack>.yaml as Pulumi.<stack>.svg)"; exit 2; }
	$(TOOLS) npx ts-node scripts/network-diagram.ts "$(STACK)"

test-unit: deps typecheck
	$(TOOLS) npx mocha 'test/unit/**/*.test.ts'

test-checkers: setup
	$(TOOLS) npx mocha 'test/checkers/**/*.test.ts'

# Needs root (namespaces, nspawn); brings the lab up and always tears it down.
test-lab: setup
	$(TOOLS) bash test/integration/run.sh

e2e: setup
	$(TOOLS) bash test/e2e/run.sh

# The real-engine gates where the Pulumi CLI is installed; said plainly when skipped.
e2e-if-present: setup
	@$(TOOLS) if homecloud_pulumi_ready; then bash test/e2e/run.sh; \
	else echo "e2e: SKIPPED, no Pulumi CLI on this machine (the lab tier ran the same program with the SSH engine; install Pulumi to run them)"; fi

# Every tier in order, then one line per tier: its count, SKIPPED and why, FAILED, or NOT RUN.
test: deps
	$(TOOLS) bash scripts/test-tiers.sh

# Issue 23, the node side: kubelet v1.34.4, containerd v2 and the CNI plugins built from the
# Go module proxy into $(HOMECLOUD_CACHE), Debian's runc. Long the first time (see the script),
# so neither `make checkers` nor `make test` runs it yet.
cluster-node:
	bash scripts/setup-cluster-node.sh

# Root: a static pod of the project's own image on containerd and a standalone kubelet, in a
# network namespace, cgroups and a directory of their own, all removed again; SKIPPED (one
# line, exit 0) where `make cluster-node` has not built them.
test-cluster-node: deps
	$(TOOLS) bash test/cluster/run.sh

lab-up: setup
	$(TOOLS) bash lab/up.sh

lab-down:
	bash lab/down.sh

lab-deploy: deps
	$(TOOLS) bash scripts/lab-deploy.sh

# The main job: the lab, the lab stack deployed into it (real engine when installed, else
# the lab's SSH engine, said in one line), stack outputs printed.
lab: setup
	$(TOOLS) bash lab/up.sh
	$(TOOLS) bash scripts/lab-deploy.sh
