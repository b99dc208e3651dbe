package mysql

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/golang/glog"
)

// rowErrors are server answers about a value in some row: the statement is refused as a whole,
// and only the offending row will keep failing.
var rowErrors = map[uint16]string{
	1048: "a NOT NULL column got NULL",
	1264: "a number is out of the column's range",
	1265: "a value was truncated; widen the column",
	1292: "a time value is not valid for the column",
	1300: "the text is not valid for the column's character set; convert the table: ALTER TABLE %s CONVERT TO CHARACTER SET utf8mb4",
	1366: "the column cannot store these characters (emoji, CJK); convert the table: ALTER TABLE %s CONVERT TO CHARACTER SET utf8mb4",
	1367: "a value is not valid for the column",
	1406: "a value is longer than its column; widen it, e.g. ALTER TABLE %s MODIFY `message` MEDIUMTEXT NOT NULL",
	1153: "the row exceeds the server's max_allowed_packet; raise it",
	3819: "a CHECK constraint refused the row",
	4025: "a CHECK constraint refused the row",
}

// credentialErrors refuse herald's user or its privileges: the sink is down, its events kept,
// until someone fixes the password or the GRANTs.
var credentialErrors = map[uint16]string{
	1044: "the user may not use this database; GRANT it the needed privileges",
	1045: "the server refused the user name or password; check the DSN (and the Secret it comes from)",
	1142: "the user lacks a privilege on the table (INSERT, UPDATE, CREATE); GRANT it",
	1143: "the user lacks a privilege on a column; GRANT it",
	1227: "the user lacks a privilege this statement needs; GRANT it",
}

// setupErrors are answers that no retry of the same statement can change: a missing database,
// a table that does not fit.
var setupErrors = map[uint16]string{
	1049: "the database does not exist; create it (CREATE DATABASE ... CHARACTER SET utf8mb4)",
	1054: "the table lacks a column herald writes; see docs/sinks/mysql.md for the table definition",
	1064: "the server refused herald's SQL; report this as a herald bug with the server version",
}

// isRowError reports an error caused by a value in some row.
func isRowError(err error) bool {
	if errors.Is(err, mysql.ErrPktTooLarge) {
		return true
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		_, ok := rowErrors[me.Number]
		return ok
	}
	return false
}

// isMissingTable reports 1146: the table was dropped (or renamed) under herald.
func isMissingTable(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1146
}

// isCredentialError reports a refused user or privilege.
func isCredentialError(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		_, ok := credentialErrors[me.Number]
		return ok
	}
	return false
}

// isSetupError reports an error no retry can fix.
func isSetupError(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		_, ok := setupErrors[me.Number]
		return ok
	}
	return false
}

// fix names what to do about err; table is the qualified table name.
func fix(err error, table string) string {
	if errors.Is(err, mysql.ErrPktTooLarge) {
		return rowErrors[1153]
	}
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return ""
	}
	if f, ok := rowErrors[me.Number]; ok {
		if strings.Contains(f, "%s") {
			return fmt.Sprintf(f, table)
		}
		return f
	}
	if f, ok := credentialErrors[me.Number]; ok {
		return f
	}
	return setupErrors[me.Number]
}

// driverLogger sends go-sql-driver's own messages (a connection closed under it) to glog.
type driverLogger struct{}

func (driverLogger) Print(v ...any) { glog.V(1).Info(append([]any{"mysql driver: "}, v...)...) }
