//! Tagged PDFs read back as a reader would, to check what a screen reader is given.

use std::collections::HashMap;

use lopdf::content::Content;
use lopdf::{Dictionary, Document, Object, ObjectId};

fn text_of(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks(2)
        .map(|p| u16::from_be_bytes([p[0], *p.get(1).unwrap_or(&0)]))
        .collect();
    String::from_utf16_lossy(&units)
}

fn dict<'a>(doc: &'a Document, o: &'a Object) -> &'a Dictionary {
    match o {
        Object::Reference(id) => doc.get_dictionary(*id).unwrap(),
        Object::Dictionary(d) => d,
        other => panic!("not a dictionary: {other:?}"),
    }
}

/// The structure tree, one line
/// per element in reading order (`"  TD: £45.00"`, indented by depth, with the text of
/// its own marked content), after checking that every piece of text drawn is marked
/// content owned through the parent tree by the element that names it, or an artifact.
///
/// # Panics
/// When the PDF is not tagged as described.
pub fn outline(pdf: &[u8]) -> Vec<String> {
    let doc = Document::load_mem(pdf).unwrap();
    let catalog = doc.catalog().unwrap();
    let marked = dict(&doc, catalog.get(b"MarkInfo").unwrap());
    assert_eq!(marked.get(b"Marked").unwrap(), &Object::Boolean(true));
    assert!(catalog.get(b"Lang").is_ok(), "the language is named");
    let prefs = dict(&doc, catalog.get(b"ViewerPreferences").unwrap());
    assert_eq!(
        prefs.get(b"DisplayDocTitle").unwrap(),
        &Object::Boolean(true)
    );
    let root_ref = catalog
        .get(b"StructTreeRoot")
        .unwrap()
        .as_reference()
        .unwrap();
    let root = doc.get_dictionary(root_ref).unwrap();

    // Each page's text by marked-content id; no text outside marked content.
    let mut texts: HashMap<(ObjectId, i64), String> = HashMap::new();
    let mut page_keys: HashMap<ObjectId, i64> = HashMap::new();
    for (_, page) in doc.get_pages() {
        let pd = doc.get_dictionary(page).unwrap();
        page_keys.insert(page, pd.get(b"StructParents").unwrap().as_i64().unwrap());
        let content = Content::decode(&doc.get_page_content(page)).unwrap();
        let mut open: Vec<Option<i64>> = Vec::new();
        for op in &content.operations {
            match op.operator.as_str() {
                "BDC" => {
                    let props = op.operands[1].as_dict().unwrap();
                    open.push(Some(props.get(b"MCID").unwrap().as_i64().unwrap()));
                }
                "BMC" => {
                    assert_eq!(op.operands[0].as_name().unwrap(), b"Artifact");
                    open.push(None);
                }
                "EMC" => {
                    open.pop().expect("EMC without a begin");
                }
                "Tj" => {
                    let Some(Some(mcid)) = open.last() else {
                        assert!(
                            matches!(open.last(), Some(None)),
                            "text outside marked content"
                        );
                        continue;
                    };
                    let bytes = op.operands[0].as_str().unwrap();
                    let t = texts.entry((page, *mcid)).or_default();
                    t.push_str(&text_of(bytes));
                }
                _ => {}
            }
        }
        assert!(open.is_empty(), "marked content left open");
    }

    // The parent tree: page key -> the element owning each id.
    let tree = dict(&doc, root.get(b"ParentTree").unwrap());
    let nums = tree.get(b"Nums").unwrap().as_array().unwrap();
    let mut owners: HashMap<(i64, i64), ObjectId> = HashMap::new();
    for pair in nums.chunks(2) {
        let key = pair[0].as_i64().unwrap();
        let array = doc
            .get_object(pair[1].as_reference().unwrap())
            .unwrap()
            .as_array()
            .unwrap();
        for (mcid, el) in array.iter().enumerate() {
            owners.insert((key, mcid as i64), el.as_reference().unwrap());
        }
    }

    let mut lines = Vec::new();
    let mut seen = 0;
    let top = root.get(b"K").unwrap().as_reference().unwrap();
    walk(
        &doc, top, root_ref, 0, &texts, &page_keys, &owners, &mut lines, &mut seen,
    );
    assert_eq!(
        seen,
        texts.len(),
        "every marked piece of text has an element"
    );
    lines
}

#[allow(clippy::too_many_arguments)]
fn walk(
    doc: &Document,
    id: ObjectId,
    parent: ObjectId,
    depth: usize,
    texts: &HashMap<(ObjectId, i64), String>,
    page_keys: &HashMap<ObjectId, i64>,
    owners: &HashMap<(i64, i64), ObjectId>,
    lines: &mut Vec<String>,
    seen: &mut usize,
) {
    let e = doc.get_dictionary(id).unwrap();
    assert_eq!(e.get(b"P").unwrap().as_reference().unwrap(), parent);
    let role = String::from_utf8_lossy(e.get(b"S").unwrap().as_name().unwrap()).into_owned();
    let mut own = Vec::new();
    let mut children = Vec::new();
    for kid in e.get(b"K").unwrap().as_array().unwrap() {
        match kid {
            Object::Reference(k) => children.push(*k),
            Object::Dictionary(m) => {
                let page = m.get(b"Pg").unwrap().as_reference().unwrap();
                let mcid = m.get(b"MCID").unwrap().as_i64().unwrap();
                assert_eq!(
                    owners.get(&(page_keys[&page], mcid)),
                    Some(&id),
                    "the parent tree names the owner of {mcid}"
                );
                own.push(texts[&(page, mcid)].clone());
                *seen += 1;
            }
            other => panic!("unexpected kid {other:?}"),
        }
    }
    let scope = e
        .get(b"A")
        .ok()
        .and_then(|a| a.as_array().ok())
        .and_then(|a| a.first())
        .map(|a| dict(doc, a))
        .and_then(|a| a.get(b"Scope").ok())
        .map(|s| format!(" ({})", String::from_utf8_lossy(s.as_name().unwrap())))
        .unwrap_or_default();
    let text = if own.is_empty() {
        String::new()
    } else {
        format!(": {}", own.join(" / "))
    };
    lines.push(format!("{}{role}{scope}{text}", "  ".repeat(depth)));
    for k in children {
        walk(doc, k, id, depth + 1, texts, page_keys, owners, lines, seen);
    }
}
