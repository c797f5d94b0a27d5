use super::*;
use proptest::prelude::*;
use serde_json::json;

fn text_strategy() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 *_`<>&é😀]{1,40}"
}

fn option_strategy() -> impl Strategy<Value = OptionObject> {
    (text_strategy(), "[a-z0-9_]{1,20}", proptest::option::of(text_strategy())).prop_map(|(t, v, d)| {
        let o = OptionObject::new(t, v);
        match d {
            Some(d) => o.description(d),
            None => o,
        }
    })
}

fn element_strategy() -> impl Strategy<Value = Element> {
    prop_oneof![
        (text_strategy(), "[a-z_]{1,20}", proptest::option::of("[a-z]{1,10}")).prop_map(|(t, a, v)| {
            let mut b = Element::button(t, a);
            if let Element::Button(b) = &mut b {
                b.value = v;
            }
            b
        }),
        (text_strategy(), "[a-z_]{1,20}", proptest::collection::vec(option_strategy(), 1..5))
            .prop_map(|(p, a, o)| Element::static_select(p, a, o)),
        (text_strategy(), "[a-z_]{1,20}").prop_map(|(p, a)| Element::users_select(p, a)),
        (text_strategy(), "[a-z_]{1,20}").prop_map(|(p, a)| Element::MultiConversationsSelect(Select {
            max_selected_items: Some(3),
            ..Select::new(p, a)
        })),
        "[a-z_]{1,20}".prop_map(Element::text_input),
        (proptest::collection::vec(option_strategy(), 2..5), "[a-z_]{1,20}").prop_map(|(o, a)| {
            Element::Overflow(Overflow { action_id: Some(a), options: o, ..Default::default() })
        }),
        (proptest::collection::vec(option_strategy(), 1..5), "[a-z_]{1,20}").prop_map(|(o, a)| {
            Element::Checkboxes(Choices { action_id: Some(a), options: o, ..Default::default() })
        }),
        "[a-z_]{1,20}".prop_map(|a| Element::DatePicker(DatePicker {
            action_id: Some(a),
            initial_date: Some("2026-01-31".into()),
            ..Default::default()
        })),
        ("https://[a-z]{1,10}\\.example/[a-z]{1,8}\\.png", text_strategy())
            .prop_map(|(u, a)| Element::image(u, a)),
    ]
}

fn block_strategy() -> impl Strategy<Value = Block> {
    prop_oneof![
        text_strategy().prop_map(|t| Section::new(t).into()),
        (text_strategy(), element_strategy()).prop_map(|(t, e)| Section::new(t).accessory(e).into()),
        proptest::collection::vec(text_strategy(), 1..10)
            .prop_map(|f| Section::fields(f.into_iter().map(Text::mrkdwn).collect()).into()),
        text_strategy().prop_map(|t| Header::new(t).into()),
        Just(Block::divider()),
        proptest::collection::vec(text_strategy(), 1..5).prop_map(|t| {
            ContextBlock::new(t.into_iter().map(|t| ContextElement::from(Text::mrkdwn(t))).collect()).into()
        }),
        proptest::collection::vec(element_strategy(), 1..6).prop_map(|e| Actions::new(e).into()),
        (text_strategy(), element_strategy()).prop_map(|(l, e)| InputBlock::new(l, e).block_id("in").into()),
        (text_strategy(), text_strategy()).prop_map(|(u, a)| ImageBlock::new(u, a).into()),
        text_strategy().prop_map(|t| RichText::text(&t).into()),
        text_strategy().prop_map(|t| Markdown::new(t).into()),
        (text_strategy(), text_strategy()).prop_map(|(t, b)| Card {
            title: Some(Text::mrkdwn(t)),
            body: Some(Text::mrkdwn(b)),
            actions: Some(vec![Element::button("Open", "open")]),
            ..Card::default()
        }
        .into()),
        text_strategy().prop_map(|t| Alert::new(Text::plain(t), "warning").into()),
    ]
}

proptest! {
    #[test]
    fn builders_round_trip_through_json(blocks in proptest::collection::vec(block_strategy(), 0..12)) {
        let text = serde_json::to_string(&blocks).unwrap();
        let back: Vec<Block> = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(&back, &blocks);
        // No block fell back to `Other`: every builder's JSON reads back typed.
        prop_assert!(back.iter().all(|b| !matches!(b, Block::Other(_))));
        // And from a `serde_json::Value` too.
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let again: Vec<Block> = serde_json::from_value(value.clone()).unwrap();
        prop_assert_eq!(&again, &blocks);
        prop_assert_eq!(serde_json::to_value(&again).unwrap(), value);
    }
}

#[test]
fn unknown_fields_and_types_are_kept_verbatim() {
    let input = json!([
        {"type": "section", "text": {"type": "mrkdwn", "text": "hi", "future": 1}, "block_id": "b1",
         "new_field": {"a": [1, 2]}},
        {"type": "table_of_the_future", "rows": [[1]]},
        {"type": "actions", "elements": [{"type": "fancy_widget", "x": true},
            {"type": "button", "text": {"type": "plain_text", "text": "Go"}, "action_id": "go", "shiny": "yes"}]},
        {"type": "header"}
    ]);
    let blocks: Vec<Block> = serde_json::from_value(input.clone()).unwrap();
    let Block::Section(s) = &blocks[0] else { panic!("{:?}", blocks[0]) };
    assert_eq!(s.extra.value("new_field"), Some(json!({"a": [1, 2]})));
    assert_eq!(s.text.as_ref().unwrap().extra.value("future"), Some(json!(1)));
    assert!(matches!(&blocks[1], Block::Other(_)));
    assert_eq!(blocks[1].type_name().as_deref(), Some("table_of_the_future"));
    let Block::Actions(a) = &blocks[2] else { panic!() };
    assert!(matches!(a.elements[0], Element::Other(_)));
    assert_eq!(a.elements[1].action_id(), Some("go"));
    // A header without its text does not fit `Header`: kept verbatim, refused by validation.
    assert!(matches!(&blocks[3], Block::Other(_)));
    assert_eq!(serde_json::to_value(&blocks).unwrap(), input);
    let err = validate(&blocks, Surface::Message).unwrap_err();
    assert_eq!(err.path, "blocks[3]");
    assert!(matches!(err.violation, Violation::Malformed(ref why) if why.contains("text")), "{err}");
}

fn first_error(blocks: Vec<Block>, surface: Surface) -> (String, Violation) {
    let e = validate(&blocks, surface).expect_err("should be refused");
    (e.path, e.violation)
}

fn long(n: usize) -> String {
    "é".repeat(n)
}

#[test]
fn block_counts_per_surface() {
    let fifty = vec![Block::divider(); 50];
    validate(&fifty, Surface::Message).unwrap();
    let mut fifty_one = fifty.clone();
    fifty_one.push(Block::divider());
    assert_eq!(
        first_error(fifty_one.clone(), Surface::Message),
        ("blocks".into(), Violation::TooMany { count: 51, max: 50 })
    );
    validate(&fifty_one, Surface::Modal).unwrap();
    validate(&vec![Block::divider(); 100], Surface::Home).unwrap();
    assert_eq!(
        first_error(vec![Block::divider(); 101], Surface::Modal),
        ("blocks".into(), Violation::TooMany { count: 101, max: 100 })
    );
}

#[test]
fn text_limits_name_their_path() {
    // Section text: 3000 (characters, not bytes).
    validate(&[Section::new(long(3000)).into()], Surface::Message).unwrap();
    assert_eq!(
        first_error(vec![Block::divider(), Section::new(long(3001)).into()], Surface::Message),
        ("blocks[1].text.text".into(), Violation::TooLong { len: 3001, max: 3000 })
    );
    assert_eq!(
        first_error(vec![Section::new("").into()], Surface::Message),
        ("blocks[0].text.text".into(), Violation::Empty)
    );
    let fields = Section::fields(vec![Text::mrkdwn("a"), Text::mrkdwn(long(2001))]);
    assert_eq!(
        first_error(vec![fields.into()], Surface::Message),
        ("blocks[0].fields[1].text".into(), Violation::TooLong { len: 2001, max: 2000 })
    );
    validate(&[Header::new(long(150)).into()], Surface::Message).unwrap();
    assert_eq!(
        first_error(vec![Header::new(long(151)).into()], Surface::Message),
        ("blocks[0].text.text".into(), Violation::TooLong { len: 151, max: 150 })
    );
    let mut header = Header::new("x");
    header.text = Text::mrkdwn("*x*");
    assert_eq!(
        first_error(vec![header.into()], Surface::Message),
        ("blocks[0].text".into(), Violation::PlainTextOnly)
    );
    let actions = Actions::new(vec![Element::button("ok", "a"), Element::button(long(76), "b")]);
    assert_eq!(
        first_error(
            vec![Block::divider(), Block::divider(), Block::divider(), actions.into()],
            Surface::Message
        ),
        ("blocks[3].elements[1].text.text".into(), Violation::TooLong { len: 76, max: 75 })
    );
    let id = Actions::new(vec![Element::button("ok", "a".repeat(256))]);
    assert_eq!(
        first_error(vec![id.into()], Surface::Message),
        ("blocks[0].elements[0].action_id".into(), Violation::TooLong { len: 256, max: 255 })
    );
    assert_eq!(
        first_error(vec![Section::new("x").block_id("b".repeat(256)).into()], Surface::Message),
        ("blocks[0].block_id".into(), Violation::TooLong { len: 256, max: 255 })
    );
    let input = InputBlock::new(long(2001), Element::text_input("t"));
    assert_eq!(
        first_error(vec![input.into()], Surface::Modal),
        ("blocks[0].label.text".into(), Violation::TooLong { len: 2001, max: 2000 })
    );
    let opt = Element::static_select("pick", "s", vec![OptionObject::new("a", "v".repeat(151))]);
    assert_eq!(
        first_error(vec![Section::new("x").accessory(opt).into()], Surface::Message),
        ("blocks[0].accessory.options[0].value".into(), Violation::TooLong { len: 151, max: 150 })
    );
    let placeholder = Element::users_select(long(151), "u");
    assert_eq!(
        first_error(vec![Actions::new(vec![placeholder]).into()], Surface::Message),
        ("blocks[0].elements[0].placeholder.text".into(), Violation::TooLong { len: 151, max: 150 })
    );
    let mut button = Button { text: Text::plain("Delete"), action_id: Some("d".into()), ..Button::default() };
    button.confirm = Some(Confirm::new("Sure?", "Really", long(31), "No"));
    assert_eq!(
        first_error(vec![Actions::new(vec![Element::Button(button)]).into()], Surface::Message),
        ("blocks[0].elements[0].confirm.confirm.text".into(), Violation::TooLong { len: 31, max: 30 })
    );
    let image = ImageBlock::new("https://x.example/a.png", long(2001));
    assert_eq!(
        first_error(vec![image.into()], Surface::Message),
        ("blocks[0].alt_text".into(), Violation::TooLong { len: 2001, max: 2000 })
    );
    let card = Card { body: Some(Text::mrkdwn(long(201))), ..Card::default() };
    assert_eq!(
        first_error(vec![card.into()], Surface::Message),
        ("blocks[0].body.text".into(), Violation::TooLong { len: 201, max: 200 })
    );
    assert_eq!(
        first_error(vec![Card::default().into()], Surface::Message),
        ("blocks[0]".into(), Violation::EmptyCard)
    );
    let md = vec![Markdown::new(long(6000)).into(), Markdown::new(long(6001)).into()];
    assert_eq!(
        first_error(md, Surface::Message),
        ("blocks[1].text".into(), Violation::TooLong { len: 12_001, max: 12_000 })
    );
    let input = PlainTextInput { max_length: Some(3001), ..Default::default() };
    assert_eq!(
        first_error(vec![InputBlock::new("x", Element::PlainTextInput(input)).into()], Surface::Modal),
        ("blocks[0].element.max_length".into(), Violation::TooLong { len: 3001, max: 3000 })
    );
}

#[test]
fn element_counts_and_uniqueness() {
    let buttons = |n: usize| (0..n).map(|i| Element::button("b", format!("a{i}"))).collect::<Vec<_>>();
    validate(&[Actions::new(buttons(25)).into()], Surface::Message).unwrap();
    assert_eq!(
        first_error(vec![Actions::new(buttons(26)).into()], Surface::Message),
        ("blocks[0].elements".into(), Violation::TooMany { count: 26, max: 25 })
    );
    assert_eq!(
        first_error(vec![Actions::new(vec![]).into()], Surface::Message),
        ("blocks[0].elements".into(), Violation::TooFew { count: 0, min: 1 })
    );
    let texts = |n: usize| (0..n).map(|_| ContextElement::from(Text::plain("t"))).collect::<Vec<_>>();
    validate(&[ContextBlock::new(texts(10)).into()], Surface::Message).unwrap();
    assert_eq!(
        first_error(vec![ContextBlock::new(texts(11)).into()], Surface::Message),
        ("blocks[0].elements".into(), Violation::TooMany { count: 11, max: 10 })
    );
    let fields = |n: usize| Section::fields((0..n).map(|_| Text::mrkdwn("f")).collect());
    validate(&[fields(10).into()], Surface::Message).unwrap();
    assert_eq!(
        first_error(vec![fields(11).into()], Surface::Message),
        ("blocks[0].fields".into(), Violation::TooMany { count: 11, max: 10 })
    );
    let options = |n: usize| (0..n).map(|i| OptionObject::new("o", i.to_string())).collect::<Vec<_>>();
    let select = |n| Actions::new(vec![Element::static_select("p", "s", options(n))]);
    validate(&[select(100).into()], Surface::Message).unwrap();
    assert_eq!(
        first_error(vec![select(101).into()], Surface::Message),
        ("blocks[0].elements[0].options".into(), Violation::TooMany { count: 101, max: 100 })
    );
    let overflow = |n| {
        Element::Overflow(Overflow {
            action_id: Some("o".into()),
            options: options(n),
            confirm: None,
            extra: Default::default(),
        })
    };
    assert_eq!(
        first_error(vec![Actions::new(vec![overflow(1)]).into()], Surface::Message),
        ("blocks[0].elements[0].options".into(), Violation::TooFew { count: 1, min: 2 })
    );
    assert_eq!(
        first_error(vec![Actions::new(vec![overflow(6)]).into()], Surface::Message),
        ("blocks[0].elements[0].options".into(), Violation::TooMany { count: 6, max: 5 })
    );
    let radio = Element::RadioButtons(Choices { options: options(11), ..Default::default() });
    assert_eq!(
        first_error(vec![Actions::new(vec![radio]).into()], Surface::Message),
        ("blocks[0].elements[0].options".into(), Violation::TooMany { count: 11, max: 10 })
    );
    let dup = Actions::new(vec![
        Element::button("a", "same"),
        Element::button("b", "other"),
        Element::button("c", "same"),
    ]);
    assert_eq!(
        first_error(vec![dup.into()], Surface::Message),
        ("blocks[0].elements[2].action_id".into(), Violation::DuplicateActionId("same".into()))
    );
    // The same action_id in two blocks is allowed (Slack: unique within the containing block).
    let a = Actions::new(vec![Element::button("a", "same")]);
    validate(&[a.clone().block_id("one").into(), a.clone().block_id("two").into()], Surface::Message)
        .unwrap();
    assert_eq!(
        first_error(vec![a.clone().block_id("one").into(), a.block_id("one").into()], Surface::Message),
        ("blocks[1]".into(), Violation::DuplicateBlockId("one".into()))
    );
    assert_eq!(
        first_error(vec![Alert::new(Text::plain("x"), "info").into()], Surface::Message),
        ("blocks[0]".into(), Violation::NotOnSurface(Surface::Message))
    );
    validate(&[Alert::new(Text::plain("x"), "info").into()], Surface::Modal).unwrap();
}

#[test]
fn raw_json_is_validated_too() {
    let raw =
        Blocks::from(json!([{"type": "header", "text": {"type": "plain_text", "text": "x".repeat(151)}}]));
    let err = raw.validate(Surface::Message).unwrap_err();
    assert_eq!(err.to_string(), "blocks[0].text.text: 151 characters, at most 150 allowed");
    let not_array = Blocks::from(json!({"type": "section"}));
    assert_eq!(not_array.validate(Surface::Message).unwrap_err().path, "blocks");
    assert_eq!(raw.to_value()[0]["type"], "header");
}
