#!/usr/bin/env bash
# Source rules the compiler cannot check (git's banned.h, as a grep):
#  - banned functions: strcpy strcat sprintf vsprintf strtok atoi atol gets
#  - backend/core never includes from api/ or stream/
#  - Redis key formats are built only in backend/core/kv.c
set -uo pipefail
cd "$(dirname "$0")/.."
status=0

if grep -rnE '\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|atoll|gets)\s*\(' \
     --include='*.c' --include="*.h" backend tests/unit tests/fuzz 2>/dev/null; then
  echo "lint: banned function used (see above)"
  status=1
fi

if grep -rnE '#include\s+"(api|stream|cli)/' backend/core; then
  echo "lint: backend/core must not include api/, stream/ or cli/ headers"
  status=1
fi

if grep -rnE '"\{(p|dev|l|u|r):' --include='*.c' backend | grep -v '^backend/core/kv.c:'; then
  echo "lint: Redis key format outside backend/core/kv.c"
  status=1
fi

exit $status
