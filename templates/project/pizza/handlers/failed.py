"""Verb processFailedOrder: receives builtin.FailedEvent<pizza.Order>."""
import json
import sys

failed = json.load(sys.stdin)
print(f"order {failed['event'].get('userId')} failed: {failed['error']}")
