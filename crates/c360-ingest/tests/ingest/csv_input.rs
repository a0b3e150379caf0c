//! CSV: good rows mixed with every kind of bad row.

use c360_bronze::BronzeTable;

use crate::*;

const TX_HEADER: &str = "transaction_id,customer_id,transaction_date,transaction_amount,merchant_name,merchant_category,channel,status";

#[test]
fn mixed_good_and_bad_rows_with_bom_crlf_and_quotes() {
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<&[u8]> = vec![
        "\u{feff}transaction_id,customer_id,transaction_date,transaction_amount,merchant_name,merchant_category,channel,status".as_bytes(), // 1
        b"T1,C1,2025-11-14 10:30:00,12.50,Acme,Retail,Online,approved", // 2
        b"T2,C1,2025-11-14T10:30:00-05:00,\"$1,234.56\",\"Smith, Jones & Co\",\"Multi\r\nline\",In-Store,approved", // 3-4
        b"T3,C2,2025-11-14,abc,Acme,Retail,Online,approved", // 5
        b"T4,C2,2025-13-45 10:00:00,5.00,Acme,Retail,Online,approved", // 6
        b"T5,C2,2025-11-14,5.00,Acme,Retail,Online", // 7
        b"T6,C2,2025-11-14,5,00,Acme,Retail,Online,approved", // 8
        b"", // 9: blank
        b"T7,C3,2025-11-14,7.25,Caf\xe9,Dining,Online,approved", // 10
        b"T8,C3,11/14/2025 08:00,-3.10,  Shop  ,,Mobile,declined", // 11
        b"T9,C3,2025-11-14,1.234,Acme,Retail,Online,approved", // 12
        b"T10,C3,someday,1.00,\"Smith, Jones\",Retail,Online,approved", // 13
        b"   ", // 14: blank
        b"T11,C4,2025-11-14 23:59:59.123456,0,Acme,Retail,Online,approved", // 15
    ];
    let mut bytes = lines.join(&b"\r\n"[..]);
    bytes.extend_from_slice(b"\r\n");
    let path = write(dir.path(), "tx.csv", bytes);
    let out = load(&path, &opts(BronzeTable::Transactions));

    assert_eq!(
        (out.report.rows_read, out.report.loaded, out.report.rejected),
        (11, 4, 7)
    );
    assert_eq!(out.text("transaction_id"), some(&["T1", "T2", "T8", "T11"]));
    assert_eq!(
        out.money("transaction_amount"),
        vec![Some(1250), Some(123_456), Some(-310), Some(0)]
    );
    assert_eq!(
        out.timestamps("transaction_date"),
        vec![
            Some(micros("2025-11-14T10:30:00Z")),
            Some(micros("2025-11-14T15:30:00Z")),
            Some(micros("2025-11-14T08:00:00Z")),
            Some(micros("2025-11-14T23:59:59.123456Z")),
        ]
    );
    assert_eq!(
        out.text("merchant_name"),
        some(&["Acme", "Smith, Jones & Co", "  Shop  ", "Acme"])
    );
    assert_eq!(
        out.text("merchant_category"),
        vec![
            Some("Retail".into()),
            Some("Multi\r\nline".into()),
            None,
            Some("Retail".into())
        ]
    );
    assert_eq!(out.text("status")[2].as_deref(), Some("declined"));
    assert_eq!(out.text("source"), some(&["tx.csv"; 4]));
    assert_eq!(
        out.timestamps("ingested_at"),
        vec![Some(loaded_at().timestamp_micros()); 4]
    );

    assert_eq!(
        out.rejections(),
        vec![
            rejection(5, Some("transaction_amount"), "bad number 'abc'"),
            rejection(
                6,
                Some("transaction_date"),
                "bad timestamp '2025-13-45 10:00:00'"
            ),
            rejection(7, None, "expected 8 fields, found 7"),
            rejection(8, None, "expected 8 fields, found 9"),
            rejection(10, Some("merchant_name"), "invalid UTF-8"),
            rejection(
                12,
                Some("transaction_amount"),
                "more than 2 decimal places in '1.234'"
            ),
            rejection(13, Some("transaction_date"), "bad timestamp 'someday'"),
        ]
    );
    let raw: Vec<&str> = out.rejected.iter().map(|r| r.raw.as_str()).collect();
    assert_eq!(raw[0], "T3,C2,2025-11-14,abc,Acme,Retail,Online,approved");
    assert_eq!(raw[3], "T6,C2,2025-11-14,5,00,Acme,Retail,Online,approved");
    assert_eq!(
        raw[4],
        "T7,C3,2025-11-14,7.25,Caf\u{fffd},Dining,Online,approved"
    );
    assert_eq!(
        raw[6],
        "T10,C3,someday,1.00,\"Smith, Jones\",Retail,Online,approved"
    );

    let reasons: Vec<(&str, u64)> = out
        .report
        .reasons
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        reasons,
        [
            ("bad_number", 1),
            ("bad_timestamp", 2),
            ("decimal_places", 1),
            ("field_count", 2),
            ("invalid_utf8", 1)
        ]
    );
    assert!(out.report.ignored_columns.is_empty());
    assert!(out.report.missing_columns.is_empty());
}

#[test]
fn customers_are_typed() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "customer_id,first_name,last_name,email,age,state,city,employment_status,card_type,credit_limit,account_open_date,updated_at,ingested_at,source\n\
        C1,Ann,Lee,ann@x.com,34.0,CA,Los Angeles,Employed,Standard,\"5,000\",2021/03/04,2025-01-02 03:04:05,2025-01-03T00:00:00Z,crm\n\
        C2, bob ,Ray,,,ny,New York,Retired,Premium,$12000.50,03/04/2021,2025-01-02,,\n\
        C3,Cy,Doe,c@x.com,old,TX,Austin,Student,Standard,1000,2021-03-04,2025-01-02,,\n\
        C4,Di,Eve,d@x.com,40,TX,Austin,Student,Standard,1000,2021-02-30,2025-01-02,not a time,\n";
    let path = write(dir.path(), "customers.csv", csv);
    let out = load(&path, &opts(BronzeTable::Customers));
    assert_eq!(out.text("customer_id"), some(&["C1", "C2"]));
    assert_eq!(out.text("first_name"), some(&["Ann", " bob "]));
    assert_eq!(out.text("email"), vec![Some("ann@x.com".into()), None]);
    assert_eq!(out.ints("age"), vec![Some(34), None]);
    assert_eq!(
        out.money("credit_limit"),
        vec![Some(500_000), Some(1_200_050)]
    );
    assert_eq!(
        out.dates("account_open_date"),
        vec![Some(days("2021-03-04")); 2]
    );
    assert_eq!(
        out.timestamps("updated_at"),
        vec![
            Some(micros("2025-01-02T03:04:05Z")),
            Some(micros("2025-01-02T00:00:00Z"))
        ]
    );
    assert_eq!(
        out.timestamps("ingested_at"),
        vec![
            Some(micros("2025-01-03T00:00:00Z")),
            Some(loaded_at().timestamp_micros())
        ]
    );
    assert_eq!(out.text("source"), some(&["crm", "customers.csv"]));
    assert_eq!(out.text("customer_segment"), vec![None, None]);
    assert_eq!(
        out.rejections(),
        vec![
            rejection(4, Some("age"), "bad integer 'old'"),
            rejection(5, Some("account_open_date"), "bad date '2021-02-30'"),
        ]
    );
}

#[test]
fn a_missing_required_column_rejects_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "transaction_id,customer_id,transaction_date,transaction_amount,merchant_name,merchant_category,channel\n\
        T1,C1,2025-11-14,1.00,Acme,Retail,Online\n\
        \n\
        T2,C1,2025-11-14,2.00,Acme,Retail,Online,extra\n";
    let path = write(dir.path(), "tx.csv", csv);
    let out = load(&path, &opts(BronzeTable::Transactions));
    assert_eq!(
        (out.report.rows_read, out.report.loaded, out.report.rejected),
        (2, 0, 2)
    );
    assert_eq!(
        out.rejections(),
        vec![
            rejection(2, Some("status"), "missing column 'status' in file header"),
            rejection(4, Some("status"), "missing column 'status' in file header"),
        ]
    );
    assert_eq!(
        out.rejected[0].raw,
        "T1,C1,2025-11-14,1.00,Acme,Retail,Online"
    );
    assert_eq!(out.report.missing_columns, ["status"]);
    assert_eq!(out.report.reasons["missing_column"], 2);
}

#[test]
fn tsv_and_explicit_delimiters() {
    let dir = tempfile::tempdir().unwrap();
    let row = [
        "T1",
        "C1",
        "2025-11-14",
        "1,234.50",
        "Acme",
        "Retail",
        "Online",
        "approved",
    ];
    let tsv = format!("{}\n{}\n", TX_HEADER.replace(',', "\t"), row.join("\t"));
    let path = write(dir.path(), "tx.tsv", tsv);
    let out = load(&path, &opts(BronzeTable::Transactions));
    assert_eq!(out.money("transaction_amount"), vec![Some(123_450)]);

    let semi = format!("{}\n{}\n", TX_HEADER.replace(',', ";"), row.join(";"));
    let path = write(dir.path(), "tx.txt", semi);
    let mut o = opts(BronzeTable::Transactions);
    o.csv_delimiter = Some(b';');
    let out = load(&path, &o);
    assert_eq!(out.money("transaction_amount"), vec![Some(123_450)]);
    assert_eq!(out.text("source"), some(&["tx.txt"]));
}

#[test]
fn a_file_without_a_header_is_an_error_and_a_header_alone_is_zero_rows() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(BronzeTable::Transactions);
    for (name, content) in [
        ("empty.csv", ""),
        ("blank.csv", "\n\r\n   \n"),
        ("bom.csv", "\u{feff}\n"),
        ("commas.csv", ",,\n"),
    ] {
        let path = write(dir.path(), name, content);
        let err = c360_ingest::read_file(&path, &o, &mut |_| Ok(())).unwrap_err();
        assert!(
            matches!(err, c360_ingest::IngestError::NoHeader { .. }),
            "{name}: {err}"
        );
        assert!(
            err.to_string().starts_with(&path.display().to_string()),
            "{err}"
        );
        assert!(err.to_string().contains("no header line"), "{err}");
    }
    let path = write(dir.path(), "header.csv", format!("{TX_HEADER}\r\n"));
    let out = load(&path, &o);
    assert_eq!(out.report.rows_read, 0);
    assert!(out.chunks.is_empty());
}

#[test]
fn unreadable_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(BronzeTable::Transactions);
    let mut sink = |_c: c360_ingest::Chunk| -> Result<()> { Ok(()) };
    let err = c360_ingest::read_file(&dir.path().join("nope.csv"), &o, &mut sink).unwrap_err();
    assert!(matches!(err, c360_ingest::IngestError::Io { .. }), "{err}");
    let path = write(dir.path(), "data.xlsx", "x");
    let err = c360_ingest::read_file(&path, &o, &mut sink).unwrap_err();
    assert!(
        matches!(err, c360_ingest::IngestError::UnsupportedFormat { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("data.xlsx"));
}

#[test]
fn a_sink_error_stops_the_read() {
    let dir = tempfile::tempdir().unwrap();
    let row = "T1,C1,2025-11-14,1.00,Acme,Retail,Online,approved\n";
    let path = write(
        dir.path(),
        "tx.csv",
        format!("{TX_HEADER}\n{}", row.repeat(5)),
    );
    let mut o = opts(BronzeTable::Transactions);
    o.batch_rows = 2;
    let mut calls = 0;
    let err = c360_ingest::read_file(&path, &o, &mut |_chunk| {
        calls += 1;
        Err(c360_ingest::IngestError::Sink("disk full".into()))
    })
    .unwrap_err();
    assert_eq!(calls, 1);
    assert_eq!(err.to_string(), "disk full");
}
