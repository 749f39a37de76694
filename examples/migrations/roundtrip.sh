#!/bin/sh
# Export a table, import it into a fresh copy, and check that the copy
# holds exactly the same items.
#   sh examples/migrations/roundtrip.sh TABLE [global flags, e.g. --endpoint http://127.0.0.1:8000]
# DYNAMO names the program (default: dynamo), e.g. DYNAMO="lua5.4 bin/dynamo.lua".
set -eu
src=$1
shift
dst=${src}_copy
here=$(dirname "$0")
dynamo=${DYNAMO:-dynamo}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

$dynamo "$@" export "$src" --out "$dir/$src.jsonl" --segments 4
$dynamo "$@" run "$here/copy_table.lua" "$src" "$dst"
$dynamo "$@" import "$dst" "$dir/$src.jsonl"

# Plain JSON with the attributes in order: equal lines, equal items.
$dynamo "$@" scan "$src" | sort > "$dir/source"
$dynamo "$@" scan "$dst" | sort > "$dir/copy"
if cmp -s "$dir/source" "$dir/copy"; then
  echo "roundtrip: $dst holds the same $(wc -l < "$dir/copy") items as $src"
else
  echo "roundtrip: $dst differs from $src:" >&2
  diff "$dir/source" "$dir/copy" | head -20 >&2
  exit 1
fi
