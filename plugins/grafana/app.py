"""Grafana Alerting's webhook contact point as an inbound plugin.

Grafana posts one notification per alert group: ``{"alerts": [...], ...}``.
Each alert is one incident, keyed by its ``fingerprint`` (stable for the
alert's label set): ``firing`` opens it (or leaves the open one alone),
``resolved`` resolves it. The summary is ``annotations.summary``, else
``labels.alertname``; the details are ``annotations.description`` and the
labels; links come from ``generatorURL``, ``dashboardURL`` and ``panelURL``
when they are http(s). Settings: ``priority`` (optional: low, normal, high,
urgent) for every incident of the source.
"""

import json

import inbound_sdk as sdk

PRIORITIES = {
    "low": sdk.Priority.LOW,
    "normal": sdk.Priority.NORMAL,
    "high": sdk.Priority.HIGH,
    "urgent": sdk.Priority.URGENT,
}

# Grafana's URL fields and the label each link gets.
LINKS = (("generatorURL", "Alert rule"), ("dashboardURL", "Dashboard"), ("panelURL", "Panel"))


class About(sdk.About):
    name = "grafana"
    version = "0.3.0"
    description = "Grafana Alerting's webhook contact point: one incident per alert fingerprint."
    settings = [
        sdk.setting(
            "priority",
            sdk.SettingKind.TEXT,
            "The priority of every incident of the source: low, normal, high or urgent (default: none).",
        )
    ]

    def check_settings(self, settings):
        try:
            priority_of(settings)
        except sdk.Rejection as refused:
            return [("priority", refused.message)]
        return []


def read_settings(request):
    settings = sdk.parse_settings(request)
    unknown = sorted(set(settings) - {"priority"})
    if unknown:
        raise sdk.Rejection.invalid_settings(
            f"unknown key \"{unknown[0]}\"; the Grafana plugin accepts \"priority\""
        )
    return priority_of(settings)


def priority_of(settings):
    word = settings.get("priority")
    if word is None:
        return None
    if word not in PRIORITIES:
        raise sdk.Rejection.invalid_settings(
            f"\"priority\" is {json.dumps(word)}; expected one of {', '.join(PRIORITIES)}"
        )
    return PRIORITIES[word]


def new_incident(alert, at, fingerprint, priority):
    labels = sdk.opt_object_field(alert, at, "labels") or {}
    annotations = sdk.opt_object_field(alert, at, "annotations") or {}
    summary = annotations.get("summary") or labels.get("alertname") or f"Grafana alert {fingerprint}"
    details = []
    if annotations.get("description"):
        details.append(str(annotations["description"]).strip())
    if labels:
        details.append("Labels:\n" + "\n".join(f"  {k}: {v}" for k, v in sorted(labels.items())))
    links = []
    for field, label in LINKS:
        url = sdk.opt_str_field(alert, at, field)
        if url and sdk.is_web_url(url):
            links.append((label, url))
        elif url:
            sdk.warn(f"alert {fingerprint}: {field} {json.dumps(url)} is not an http(s) URL; left out")
    return sdk.new_incident(
        fingerprint, str(summary), "\n\n".join(details), priority=priority, links=links
    )


class Handler(sdk.Plugin):
    def on_request(self, request):
        priority = read_settings(request)
        body = sdk.parse_json(request.body)
        alerts = sdk.list_field(body, "", "alerts")
        if not alerts:
            raise sdk.Rejection.invalid_field("alerts", "is empty; expected at least one alert")
        # Read every alert before changing anything: one bad alert refuses
        # the whole notification (and nothing is applied anyway).
        parsed = []
        for position, alert in enumerate(alerts):
            at = sdk.index("alerts", position)
            fingerprint = sdk.str_field(alert, at, "fingerprint")
            status = sdk.str_field(alert, at, "status")
            if status not in ("firing", "resolved"):
                raise sdk.Rejection.invalid_field(
                    sdk.path(at, "status"), f"is {json.dumps(status)}; expected \"firing\" or \"resolved\""
                )
            parsed.append((alert, at, fingerprint, status))
        outcomes = []
        for alert, at, fingerprint, status in parsed:
            if status == "firing":
                new = new_incident(alert, at, fingerprint, priority)
                action, incident = sdk.open_or_create(new)
                sdk.debug(f"alert {fingerprint} firing: {sdk.word(action)} incident {incident.id}")
                outcomes.append(sdk.outcome(action, incident))
            else:
                resolved = sdk.resolve_open(fingerprint, "resolved in Grafana")
                if resolved is None:
                    sdk.info(f"alert {fingerprint} resolved, but no incident is open for it")
                else:
                    outcomes.append(sdk.outcome(*resolved))
        return outcomes
