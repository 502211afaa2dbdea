//! Tagged PDF (ISO 32000-1, 14.7 and 14.8): the structure a screen reader follows in the
//! certificates and invoices the platform writes. Every piece of text drawn is a
//! marked-content sequence with its own id on its page, owned by one structure element
//! (a heading, a paragraph, a table's rows and cells) of a tree read in document order; a
//! decorative line is marked as an artifact, so it is not read out. The catalogue says the
//! document is tagged, names its language and asks viewers to show its title, which its
//! XMP metadata also carries.
//!
//! A document is drawn as before, with [`Tags::begin`] and [`Tags::end`] around each piece
//! of text and [`Tags::add`] for each element, and finished with [`Tags::write`].

use pdf_writer::types::{StructRole, TableHeaderScope};
use pdf_writer::writers::StructTreeRoot;
use pdf_writer::{Content, Finish as _, Name, Pdf, Ref, TextStr};
use xmp_writer::{LangId, XmpWriter};

/// The language the documents are written in.
const LANG: &str = "en-GB";

/// An element of the structure tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct El(usize);

/// What an element holds, in reading order.
#[derive(Debug)]
enum Kid {
    Element(usize),
    Marked { page: usize, mcid: i32 },
}

#[derive(Debug)]
struct Element {
    role: StructRole,
    /// For a header cell: whether it heads its row (otherwise its column).
    heads_row: bool,
    parent: Option<usize>,
    kids: Vec<Kid>,
}

/// The structure tree of a document being drawn.
#[derive(Debug)]
pub(crate) struct Tags {
    elements: Vec<Element>,
    /// For each page, the element owning each marked-content id (the index).
    pages: Vec<Vec<usize>>,
}

impl Tags {
    /// A tree holding only the document element.
    pub(crate) fn new() -> Self {
        Self {
            elements: vec![Element {
                role: StructRole::Document,
                heads_row: false,
                parent: None,
                kids: Vec::new(),
            }],
            pages: Vec::new(),
        }
    }

    /// The document element, which holds the rest.
    pub(crate) fn document() -> El {
        El(0)
    }

    /// A new element of `role`, the last child of `parent` so far.
    pub(crate) fn add(&mut self, role: StructRole, parent: El) -> El {
        self.add_element(role, false, parent)
    }

    /// A header cell that heads its row (`Total`), where [`Tags::add`] with
    /// [`StructRole::TH`] heads a column.
    pub(crate) fn add_row_header(&mut self, parent: El) -> El {
        self.add_element(StructRole::TH, true, parent)
    }

    fn add_element(&mut self, role: StructRole, heads_row: bool, parent: El) -> El {
        let at = self.elements.len();
        self.elements.push(Element {
            role,
            heads_row,
            parent: Some(parent.0),
            kids: Vec::new(),
        });
        self.elements[parent.0].kids.push(Kid::Element(at));
        El(at)
    }

    /// Starts a new page: the marks that follow are on it.
    pub(crate) fn page(&mut self) {
        self.pages.push(Vec::new());
    }

    /// Starts a marked-content sequence on `content`, the current page's, owned by `el`
    /// (its next piece of content); [`Tags::end`] ends it.
    pub(crate) fn begin(&mut self, content: &mut Content, el: El) {
        if self.pages.is_empty() {
            self.page();
        }
        let page = self.pages.len() - 1;
        let marks = &mut self.pages[page];
        let mcid = i32::try_from(marks.len()).unwrap_or(i32::MAX);
        marks.push(el.0);
        let element = &mut self.elements[el.0];
        element.kids.push(Kid::Marked { page, mcid });
        content
            .begin_marked_content_with_properties(element.role.to_name())
            .properties()
            .identify(mcid);
    }

    /// Ends a marked-content sequence or artifact.
    pub(crate) fn end(content: &mut Content) {
        content.end_marked_content();
    }

    /// Starts an artifact (decoration a reader skips); [`Tags::end`] ends it.
    pub(crate) fn artifact(content: &mut Content) {
        content.begin_marked_content(Name(b"Artifact"));
    }

    /// The catalogue of a tagged document in British English whose title viewers show,
    /// with its page tree, structure tree root and metadata ([`Tags::describe`]).
    pub(crate) fn catalog(pdf: &mut Pdf, catalog: Ref, pages: Ref, root: Ref, metadata: Ref) {
        let mut c = pdf.catalog(catalog);
        c.pages(pages).lang(TextStr(LANG)).metadata(metadata);
        c.pair(Name(b"StructTreeRoot"), root);
        c.mark_info().marked(true);
        c.viewer_preferences().display_doc_title(true);
    }

    /// The document's title and author, in its information dictionary (`info`) and in the
    /// XMP metadata stream (`metadata`) readers and checkers look for, with its language.
    pub(crate) fn describe(pdf: &mut Pdf, info: Ref, metadata: Ref, title: &str, author: &str) {
        pdf.document_info(info)
            .title(TextStr(title))
            .author(TextStr(author));
        let mut xmp = XmpWriter::new();
        xmp.title([(None, title)])
            .creator([author])
            .language([LangId(LANG)])
            .format("application/pdf");
        let xml = xmp.finish(None);
        pdf.metadata(metadata, xml.as_bytes());
    }

    /// Writes the structure tree at `root`, for pages `page_refs` (in the order drawn;
    /// each page's `StructParents` is its index), allocating from `next`.
    pub(crate) fn write(&self, pdf: &mut Pdf, root: Ref, page_refs: &[Ref], next: &mut Ref) {
        let refs: Vec<Ref> = self.elements.iter().map(|_| next.bump()).collect();
        let parents: Vec<Ref> = self.pages.iter().map(|_| next.bump()).collect();
        {
            let mut tree = pdf.indirect(root).start::<StructTreeRoot<'_>>();
            tree.child(refs[0]);
            let mut nums = tree.parent_tree();
            let mut entries = nums.nums();
            for (key, array) in parents.iter().enumerate() {
                entries.insert(key_of(key), *array);
            }
            entries.finish();
            nums.finish();
            tree.parent_tree_next_key(key_of(self.pages.len()));
        }
        for (i, e) in self.elements.iter().enumerate() {
            let mut s = pdf.struct_element(refs[i]);
            s.kind(e.role);
            s.parent(e.parent.map_or(root, |p| refs[p]));
            if e.role == StructRole::TH {
                let scope = if e.heads_row {
                    TableHeaderScope::Row
                } else {
                    TableHeaderScope::Column
                };
                s.attributes().push().table().scope(scope);
            }
            let mut kids = s.children();
            for kid in &e.kids {
                match kid {
                    Kid::Element(k) => {
                        kids.struct_element(refs[*k]);
                    }
                    Kid::Marked { page, mcid } => {
                        let mut m = kids.marked_content_ref();
                        m.marked_content_id(*mcid);
                        if let Some(p) = page_refs.get(*page) {
                            m.page(*p);
                        }
                    }
                }
            }
        }
        for (page, array) in self.pages.iter().zip(&parents) {
            pdf.indirect(*array)
                .array()
                .items(page.iter().map(|e| refs[*e]));
        }
    }
}

/// A page's key in the parent tree (its index).
fn key_of(page: usize) -> i32 {
    i32::try_from(page).unwrap_or(i32::MAX)
}
