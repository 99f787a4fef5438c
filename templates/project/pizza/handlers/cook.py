"""Verb processOrder: the event arrives as JSON on stdin.

Exit 0: done. Any other exit code: retried, then dead-lettered.
Exit 65 (EX_DATAERR): this event can never succeed; dead-letter it at once.
"""
import json
import os
import sys

order = json.load(sys.stdin)
attempt = os.environ.get("FTL_ATTEMPT", "1")
if not order.get("pizza"):
    print(f"the order of {order.get('userId', 'an unknown user')} names no pizza: {json.dumps(order)}", file=sys.stderr)
    sys.exit(65)
print(
    f"cooking {order['pizza']} for {order.get('userId')} "
    f"(partition {os.environ['FTL_PARTITION']}, offset {os.environ['FTL_OFFSET']}, attempt {attempt})"
)
