/**
 * The randomchat store of a single node: SQLite in DATA_DIR. The only package that uses sqlite-jdbc.
 * Internal: anything here may change at any time, without notice.
 */
package io.switchboard.server.internal.dialect.randomchat.sqlite;
