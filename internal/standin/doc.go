// Package standin provides local stand-ins for what the programs talk to in
// production: a MISP server that responds to restSearch from seeded attributes,
// the Wazuh queue socket, and a Telegram Bot API. The demo, the end-to-end
// tests and the benchmarks use them, so none of them needs a Wazuh manager,
// a MISP instance or a Telegram account.
package standin
