//! OpenTelemetry out (filled below).
