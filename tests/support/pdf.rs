//! Tagged PDFs read back as a reader would, to check what a screen reader is given.

use std::collections::{HashMap, HashSet};

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

    // The title shown is also in the XMP metadata.
    let xmp = catalog.get(b"Metadata").unwrap().as_reference().unwrap();
    let xmp = doc.get_object(xmp).unwrap().as_stream().unwrap();
    assert_eq!(xmp.dict.get(b"Subtype").unwrap().as_name().unwrap(), b"XML");
    let xml = String::from_utf8_lossy(&xmp.content);
    assert!(xml.contains("<dc:title>") && xml.contains("en-GB"), "{xml}");

    // Each page's text by marked-content id (each id used once, with its tag); no text
    // outside marked content.
    let mut texts: HashMap<(ObjectId, i64), (Vec<u8>, String)> = HashMap::new();
    let mut page_keys: HashMap<ObjectId, i64> = HashMap::new();
    let pages = doc.get_pages();
    for page in pages.values().copied() {
        let pd = doc.get_dictionary(page).unwrap();
        page_keys.insert(page, pd.get(b"StructParents").unwrap().as_i64().unwrap());
        let stream = pd.get(b"Contents").unwrap().as_reference().unwrap();
        let stream = doc.get_object(stream).unwrap().as_stream().unwrap();
        let content = Content::decode(&stream.content).unwrap();
        assert!(!content.operations.is_empty(), "the page draws something");
        let mut open: Vec<Option<i64>> = Vec::new();
        for op in &content.operations {
            match op.operator.as_str() {
                "BDC" => {
                    let tag = op.operands[0].as_name().unwrap().to_vec();
                    let props = op.operands[1].as_dict().unwrap();
                    let mcid = props.get(b"MCID").unwrap().as_i64().unwrap();
                    let fresh = texts.insert((page, mcid), (tag, String::new())).is_none();
                    assert!(fresh, "marked-content id {mcid} used twice on a page");
                    open.push(Some(mcid));
                }
                "BMC" => {
                    assert_eq!(op.operands[0].as_name().unwrap(), b"Artifact");
                    open.push(None);
                }
                "EMC" => {
                    open.pop().expect("EMC without a begin");
                }
                "Tj" | "TJ" | "'" | "\"" => {
                    let Some(Some(mcid)) = open.last() else {
                        assert!(
                            matches!(open.last(), Some(None)),
                            "text outside marked content"
                        );
                        continue;
                    };
                    let shown = match op.operands.last().unwrap() {
                        Object::Array(parts) => parts
                            .iter()
                            .filter_map(|p| p.as_str().ok())
                            .map(text_of)
                            .collect(),
                        o => text_of(o.as_str().unwrap()),
                    };
                    texts.get_mut(&(page, *mcid)).unwrap().1.push_str(&shown);
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

    assert_eq!(
        owners.len(),
        texts.len(),
        "the parent tree names nothing else"
    );
    let next_key = root.get(b"ParentTreeNextKey").unwrap().as_i64().unwrap();
    assert_eq!(next_key, pages.len() as i64);

    let mut lines = Vec::new();
    let mut seen = HashSet::new();
    let top = root.get(b"K").unwrap().as_reference().unwrap();
    walk(
        &doc, top, root_ref, 0, &texts, &page_keys, &owners, &mut lines, &mut seen,
    );
    assert_eq!(
        seen.len(),
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
    texts: &HashMap<(ObjectId, i64), (Vec<u8>, String)>,
    page_keys: &HashMap<ObjectId, i64>,
    owners: &HashMap<(i64, i64), ObjectId>,
    lines: &mut Vec<String>,
    seen: &mut HashSet<(ObjectId, i64)>,
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
                let (tag, text) = &texts[&(page, mcid)];
                assert_eq!(tag.as_slice(), role.as_bytes(), "marked as its element");
                own.push(text.clone());
                assert!(seen.insert((page, mcid)), "{mcid} claimed twice");
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
