#!/usr/bin/env bash
# Sign-in timing (issue 9, finding 6): the median /token answer for an unknown user against a known
# user with a wrong password, 100 alternating samples each, on a Release build of template/ (or of the
# folder given as $1, to compare another version). Both medians and their difference are printed; the
# contract is that no one can tell the two apart (under 1 ms between medians here).
set -euo pipefail
app="${1:-$(dirname "$0")/../../template}"
port="${PORT:-5987}"
work="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

# 30 extra Development users, so that 100 wrong passwords never lock one out (5 failures do).
seed=()
for i in $(seq 0 29); do
  seed+=("Seed__Users__$((i + 3))__UserName=m$i" "Seed__Users__$((i + 3))__Password=measure-password-$i")
done

env "${seed[@]}" ASPNETCORE_ENVIRONMENT=Development ASPNETCORE_URLS="http://127.0.0.1:$port" \
  ConnectionStrings__Default="Data Source=$work/app.db" \
  RateLimiting__Token__PerClient=100000 RateLimiting__Token__PerUsername=100000 Logging__LogLevel__Default=Warning \
  dotnet run -c Release --no-launch-profile --project "$app" >"$work/app.log" 2>&1 &
server=$!
for _ in $(seq 1 120); do
  curl -s -o /dev/null "http://127.0.0.1:$port/health" && break
  sleep 1
done

python3 "$(dirname "$0")/measure.py" "$port" 100
