"""Parcels shipped after a refund (退款后已发货): detection, the leads' workflow, buyer contact,
the loss ledger, evidence packs, group-robot alerts and the monthly review.

Modules, each one idea:
  detect     opens one incident per order when a refund succeeds after its parcel passed or shipped
             (a gate hook: server.gatestate.GateHooks runs `after_gate_change`)
  timeline   the order's story from the scan journal, Douyin's records and the steps taken
  workflow   states, outcomes, causes as enums; the allowed transitions as data; `step`
  steps      the steps a lead takes (contact, outcome, receive, inspect, cause, ledger, close)
  intercept  afterSale.applyLogisticsIntercept for an incident
  templates  buyer-contact messages: defaults, rendering, the compliance check
  ledger     the loss ledger, pure arithmetic in fen
  evidence   the evidence pack (print page and JSON)
  robots     WeCom / DingTalk / Feishu group robots: signing, the outbox and its sender
  review     the monthly review's arithmetic, pure  ·  facts  loads its inputs and the handbook
  charts     server-side SVG bar charts  ·  export  the review as an Excel workbook (openpyxl)
  forms      the console's forms (on server.console.forms.Form)  ·  queries  what the console reads

Nothing here imports the console's views; only `forms` uses the console's Form class.
"""
