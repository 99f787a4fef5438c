"""Verb processFailedOrder: receives builtin.FailedEvent<pizza.Order>,
`{"event": <the order>, "error": "..."}`; where it came from is in
FTL_KEY and the dead letter's headers."""
import json
import os
import sys

failed = json.load(sys.stdin)
order = failed["event"]
if isinstance(order, dict):
    what = f"the order of {order.get('userId', 'an unknown user')} ({order.get('pizza', 'no pizza named')})"
else:
    what = f"an event that is not an order ({order!r})"
print(f"{what} failed: {failed['error']} (key {os.environ.get('FTL_KEY', '-')})")
