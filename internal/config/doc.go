// Package config loads the TOML file that custom-misp and custom-telegram
// share: defaults first, the file decoded over them, then validation that
// rejects unknown keys (naming the likely intended one), unsafe file
// permissions and values that cannot work. Secrets may come from the file
// itself or from separate key files.
package config
