//! Certificates and invoices are tagged PDFs: read back as a screen reader would, each
//! gives its heading, paragraphs and (for an invoice) a table with its header cells, in
//! reading order, across pages, with nothing drawn left unmarked.

use bookings::certificate::{Certificate, render};
use bookings::invoices::{INVOICE, Line};
use bookings::store::entity::invoice;
use chrono::{NaiveDate, TimeZone as _, Utc};
use e2e::pdf::outline;
use identity::store::entity::organisation;

#[test]
fn a_certificate_reads_as_a_heading_and_paragraphs() {
    let pdf = render(&Certificate {
        issuer: "Harrow School Support",
        person: "Zoë O’Neill",
        course: "Supporting pupils with speech, language and communication needs in the early years",
        completed_on: NaiveDate::from_ymd_opt(2027, 3, 4).unwrap(),
        minutes: 60,
        reference: "0190-abc",
    })
    .unwrap();
    assert_eq!(
        outline(&pdf),
        [
            "Document",
            "  P: Harrow School Support",
            "  H1: Certificate of attendance",
            "  P: This is to certify that",
            "  P: Zoë O’Neill",
            "  P: attended",
            "  P: Supporting pupils with speech, language and communication / needs in the early years",
            "  P: completed on 4 March 2027, 1 hour of continuing professional development.",
            "  P: Reference 0190-abc",
        ]
    );
}

/// An invoice long enough for three pages keeps one table, row by row, in order.
#[tokio::test]
async fn a_long_invoice_is_one_table_across_its_pages() {
    let app = e2e::spawn_app().await;
    let cfg = app
        .registry
        .current()
        .get(&"harrow".parse().unwrap())
        .unwrap()
        .config
        .clone();
    let issued = Utc.with_ymd_and_hms(2027, 1, 5, 10, 0, 0).unwrap();
    let lines: Vec<Line> = (1..=90)
        .map(|i| Line {
            description: format!("Course {i}, 4 March 2027"),
            list_pence: 7_500,
            discount_pence: if i == 90 { 2_500 } else { 0 },
            amount_pence: if i == 90 { 5_000 } else { 7_500 },
        })
        .collect();
    let inv = invoice::Model {
        tenant_id: "harrow".into(),
        id: "i".into(),
        number: "SS4E-INV-000042".into(),
        kind: INVOICE.into(),
        organisation_id: "o".into(),
        order_id: "r".into(),
        booking_id: None,
        credits_number: None,
        issued_at: issued,
        total_pence: lines.iter().map(|l| l.amount_pence).sum(),
        lines: serde_json::to_string(&lines).unwrap(),
    };
    let org = organisation::Model {
        tenant_id: "harrow".into(),
        id: "o".into(),
        name: "Kenton School".into(),
        kind: "school".into(),
        created_at: issued,
        approve_bookings: false,
    };
    let pdf = bookings::invoices::pdf(&cfg, &org, "ORDER12345", &inv).unwrap();
    let pages = lopdf::Document::load_mem(&pdf).unwrap().get_pages().len();
    assert!(pages >= 3, "{pages} pages");

    let got = outline(&pdf);
    assert_eq!(got[0], "Document");
    assert!(
        got.contains(&"  H1: Invoice SS4E-INV-000042".to_owned()),
        "{got:?}"
    );
    assert!(
        got.contains(&"  P: Billed to Kenton School".to_owned()),
        "{got:?}"
    );
    let table = got.iter().position(|l| l == "  Table").unwrap();
    let mut want = vec![
        "  Table".to_owned(),
        "    TR".to_owned(),
        "      TH (Column): Item".to_owned(),
        "      TH (Column): Amount".to_owned(),
    ];
    for i in 1..=89 {
        want.extend([
            "    TR".to_owned(),
            format!("      TD: Course {i}, 4 March 2027"),
            "      TD: £75.00".to_owned(),
        ]);
    }
    want.extend([
        "    TR".to_owned(),
        "      TD: Course 90, 4 March 2027 /     List price £75.00, less £25.00 at the SLA rate"
            .to_owned(),
        "      TD: £50.00".to_owned(),
        "    TR".to_owned(),
        "      TH (Row): Total".to_owned(),
        "      TD: £6,725.00".to_owned(),
    ]);
    assert_eq!(got[table..], want[..]);
}
