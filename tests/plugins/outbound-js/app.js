/**
 * A JavaScript plugin that acts back on the sender, for the tests: the SDK's
 * `outbound(onChange)` and its request helpers, one case per change kind.
 * It is `outbound-py` in JavaScript (see its docstring); both must answer
 * alike.
 */

import * as sdk from './inbound_sdk.js';

export const about = sdk.about({
  name: 'test-outbound-js',
  version: '0.1.0',
  description: 'Acts back on the sender, for the tests.',
  settings: [sdk.setting('base', 'text', 'Put before every path (default: /api).')],
});

export const handler = sdk.handler((request) => {
  const body = sdk.parseJson(request.body);
  const key = sdk.strField(body, '', 'id');
  if (sdk.carriesMarker(sdk.optStrField(body, '', 'comment') ?? '')) {
    sdk.info(`${key}: our own note came back; nothing to do`);
    return [];
  }
  if (sdk.strField(body, '', 'status') === 'resolved') {
    const resolved = sdk.resolveOpen(key);
    return resolved ? [sdk.outcome(...resolved)] : [];
  }
  const [action, incident] = sdk.openOrCreate(sdk.newIncident(key, `Ticket ${key}`));
  return [sdk.outcome(action, incident)];
});

export const outbound = sdk.outbound((change, incident, settings) => {
  const base = JSON.parse(settings || '{}').base ?? '/api';
  const ticket = `${base}/tickets/${incident.key}`;
  sdk.info(`${incident.key}: ${change.kind} by ${change.by}`);
  switch (change.kind) {
    case 'accepted': {
      const matchers = [{ name: 'ticket', value: incident.key }];
      const silence = { matchers, comment: change.marker };
      return [
        sdk.putJson(ticket, { note: `Accepted by ${change.by} [${change.marker}]` }),
        sdk.postJson(`${base}/silences`, silence, { rememberAs: `silence-${incident.key}` }),
      ];
    }
    case 'noted': {
      if (change.text === 'write') {
        sdk.incidents.comment(incident.id, undefined, 'not allowed here');
      }
      const body = { text: change.text, incident: incident.id, marker: change.marker };
      return [sdk.postJson(`${ticket}/comments`, body, { rememberAs: `comment-${incident.key}` })];
    }
    case 'resolved': {
      const requests = [];
      const silence = sdk.state.get(`silence-${incident.key}`);
      if (silence !== undefined) {
        const { silenceID } = JSON.parse(new TextDecoder().decode(silence));
        requests.push(sdk.delete(`${base}/silences/${silenceID}`));
      }
      requests.push(
        sdk.request('patch', ticket, {
          body: `closed by ${change.by}`,
          headers: [['content-type', 'text/plain']],
        }),
      );
      return requests;
    }
    case 'escalation-exhausted':
      throw new sdk.OutboundError('nobody is on call at the sender');
    default:
      return undefined;
  }
});
