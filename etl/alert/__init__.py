"""Alert stage: new notices to subscribers exactly once, failed runs to engineers, apart.

- ``outbox``: the warehouse outbox (enqueued by the load stage in its transaction; routed,
  claimed, settled per notice and destination by the alert stage);
- ``subscriptions``: who hears about what (``QDP_ALERT_URLS`` + ``QDP_SUBSCRIPTIONS_FILE``);
- ``render``: messages escaped for each destination's format;
- ``deliver``: the stage itself, one Apprise object per destination;
- ``ops``: one failure message per failed or degraded run to ``QDP_OPS_ALERT_URLS``.

Apprise is the one delivery layer (e-mail, webhooks, Slack, Teams, ntfy, WeCom, DingTalk, Feishu).
Nothing is imported here: the DAG file imports ``etl.alert.ops`` alone at parse time.
"""
