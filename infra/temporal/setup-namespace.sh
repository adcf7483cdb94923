#!/bin/sh
# Registers what Slipway needs on a fresh Temporal server: the namespace (the server does not
# create `default` itself) and Slipway's search attributes, so the UI and `slipway status` can
# filter by app, environment, version and stage. docker-compose.yml runs it in the
# temporal-setup container once the server is healthy; the tests run it the same way
# (infra/temporal/production-server.ts). Safe to run again: what exists is kept.
#
# Env: TEMPORAL_ADDRESS (host:port), NAMESPACE (default), RETENTION (72h), TEMPORAL_CLI (temporal),
# WAIT_SECONDS (how long to wait for the server to answer, 120).
set -eu

TEMPORAL_CLI=${TEMPORAL_CLI:-temporal}
NAMESPACE=${NAMESPACE:-default}
# The same names and types as core/search-attributes.ts (a unit test keeps them equal).
SEARCH_ATTRIBUTES="SlipwayApp:Keyword SlipwayEnvironment:Keyword SlipwayVersion:Keyword SlipwayStage:Keyword"

# Runs "$@" once a second until it succeeds, for WAIT_SECONDS at most; its last output is in $out.
retry() {
  what=$1
  shift
  waited=0
  until out=$("$@" 2>&1); do
    waited=$((waited + 1))
    if [ "$waited" -ge "${WAIT_SECONDS:-120}" ]; then
      echo "setup-namespace: $what within ${WAIT_SECONDS:-120} s: $out" >&2
      exit 1
    fi
    sleep 1
  done
}

retry "the Temporal server at ${TEMPORAL_ADDRESS:-127.0.0.1:7233} did not answer" "$TEMPORAL_CLI" operator cluster health

if "$TEMPORAL_CLI" operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
  echo "setup-namespace: namespace $NAMESPACE exists"
else
  "$TEMPORAL_CLI" operator namespace create --namespace "$NAMESPACE" --retention "${RETENTION:-72h}"
fi

# A namespace just created reaches every frontend's cache within seconds, not at once.
retry "could not list the search attributes of $NAMESPACE" "$TEMPORAL_CLI" operator search-attribute list --namespace "$NAMESPACE"
existing=$out
for entry in $SEARCH_ATTRIBUTES; do
  name=${entry%%:*}
  type=${entry#*:}
  if printf '%s\n' "$existing" | grep -qw "$name"; then
    echo "setup-namespace: search attribute $name exists"
  else
    "$TEMPORAL_CLI" operator search-attribute create --namespace "$NAMESPACE" --name "$name" --type "$type"
  fi
done
