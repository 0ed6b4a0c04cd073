"""Templates: sandboxed rendering, versioning on edit, preview, CRUD and permissions."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2, struct_pb2

from cleanse.engagement.v1 import notification_admin_service_pb2 as admin_pb2
from cleanse.engagement.v1 import resources_pb2 as pb
from services.engagement import templates as tpl
from services.engagement.seed import SEEDS
from tests.engagement.conftest import Engagement, unique
from tests.support.rpc import reason, violations

ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ x.__class__ }}",
    "{% set d = {} %}{{ d.update(a=1) }}",  # immutable sandbox: no mutation
]


@pytest.mark.parametrize("source", ESCAPES)
def test_sandbox_blocks_escapes(source: str) -> None:
    with pytest.raises(tpl.RenderError):
        tpl.render_one(source, {"x": 1})


def test_html_is_autoescaped_and_text_is_not() -> None:
    out = tpl.render("Hi {{ n }}", "Hi {{ n }}", "<p>{{ n }}</p>", {"n": "<script>x</script>"})
    assert out.subject == "Hi <script>x</script>"
    assert out.html_body == "<p>&lt;script&gt;x&lt;/script&gt;</p>"


def test_unknown_variable_fails_instead_of_sending_a_hole() -> None:
    with pytest.raises(tpl.RenderError):
        tpl.render_one("Order {{ order_numbr }}", {"order_number": "X"})


def test_rupees_filter_uses_indian_grouping() -> None:
    assert tpl.render_one("{{ p|rupees }}", {"p": 123456789}) == "₹12,34,567.89"


async def test_every_required_template_is_seeded_and_renders_its_sample(
    engagement: Engagement,
) -> None:
    resp = await engagement.admin.ListNotificationTemplates(
        admin_pb2.ListNotificationTemplatesRequest(page_size=200), metadata=engagement.md()
    )
    kinds = {t.event_type for t in resp.notification_templates}
    for needed in (
        "order.placed", "order.payment_failed", "shipment.shipped",
        "shipment.out_for_delivery", "shipment.delivered", "order.refunded",
        "order.return_status_changed", "auth.otp", "inventory.low_stock", "cart.abandoned",
    ):  # fmt: skip
        assert needed in kinds
    for seed in SEEDS:
        out = await engagement.admin.PreviewNotificationTemplate(
            admin_pb2.PreviewNotificationTemplateRequest(name=f"notificationTemplates/{seed.id}"),
            metadata=engagement.md(),
        )
        assert out.text_body and "{{" not in out.text_body, seed.id
    shipped = await engagement.admin.PreviewNotificationTemplate(
        admin_pb2.PreviewNotificationTemplateRequest(name="notificationTemplates/shipped-email"),
        metadata=engagement.md(),
    )
    assert "https://track.example.in/" in shipped.html_body  # the tracking link


async def _create(e: Engagement, tid: str, **fields: object) -> pb.NotificationTemplate:
    base = dict(
        event_type="order.payment_failed",
        channel=pb.CHANNEL_SMS,
        text_body="Payment for {{ order_number }} failed",
        provider_template_id="pay_failed",
    )
    base.update(fields)
    return await e.admin.CreateNotificationTemplate(
        admin_pb2.CreateNotificationTemplateRequest(
            notification_template_id=tid, notification_template=pb.NotificationTemplate(**base)
        ),
        metadata=e.md(),
    )


async def test_edit_creates_a_version_and_old_versions_stay_readable(e: Engagement) -> None:
    tid = unique("t-")
    created = await _create(e, tid)
    assert created.version == 1 and created.active
    updated = await e.admin.UpdateNotificationTemplate(
        admin_pb2.UpdateNotificationTemplateRequest(
            notification_template=pb.NotificationTemplate(
                name=created.name, text_body="Retry {{ order_number }} at {{ retry_url }}"
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["text_body"]),
        ),
        metadata=e.md(),
    )
    assert updated.version == 2
    v1 = await e.admin.GetNotificationTemplate(
        admin_pb2.GetNotificationTemplateRequest(name=created.name, version=1), metadata=e.md()
    )
    assert v1.text_body == "Payment for {{ order_number }} failed"
    versions = await e.admin.ListNotificationTemplateVersions(
        admin_pb2.ListNotificationTemplateVersionsRequest(name=created.name), metadata=e.md()
    )
    assert [v.version for v in versions.versions] == [2, 1]
    # A change that is not content (display name) makes no new version.
    same = await e.admin.UpdateNotificationTemplate(
        admin_pb2.UpdateNotificationTemplateRequest(
            notification_template=pb.NotificationTemplate(name=created.name, display_name="X"),
            update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
        ),
        metadata=e.md(),
    )
    assert same.version == 2 and same.display_name == "X"
    # Preview of a draft with sample data, and of the stored version with given data.
    data = struct_pb2.Struct()
    data.update({"order_number": "CLN-9", "retry_url": "https://x.test/pay"})
    stored = await e.admin.PreviewNotificationTemplate(
        admin_pb2.PreviewNotificationTemplateRequest(name=created.name, data=data),
        metadata=e.md(),
    )
    assert (stored.text_body, stored.version) == ("Retry CLN-9 at https://x.test/pay", 2)
    draft = await e.admin.PreviewNotificationTemplate(
        admin_pb2.PreviewNotificationTemplateRequest(
            name=created.name, draft=pb.NotificationTemplate(text_body="Draft {{ order_number }}")
        ),
        metadata=e.md(),
    )
    assert draft.version == 0 and draft.text_body.startswith("Draft ")
    await e.admin.DeleteNotificationTemplate(
        admin_pb2.DeleteNotificationTemplateRequest(name=created.name), metadata=e.md()
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await e.admin.GetNotificationTemplate(
            admin_pb2.GetNotificationTemplateRequest(name=created.name), metadata=e.md()
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_template_that_escapes_the_sandbox_is_refused_at_preview(e: Engagement) -> None:
    created = await _create(e, unique("t-"), event_type="order.return_status_changed")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await e.admin.PreviewNotificationTemplate(
            admin_pb2.PreviewNotificationTemplateRequest(
                name=created.name,
                draft=pb.NotificationTemplate(text_body="{{ ''.__class__.__mro__ }}"),
            ),
            metadata=e.md(),
        )
    assert reason(err.value) == "TEMPLATE_ERROR"
    await e.admin.DeleteNotificationTemplate(
        admin_pb2.DeleteNotificationTemplateRequest(name=created.name), metadata=e.md()
    )


async def test_invalid_and_duplicate_templates_are_refused(e: Engagement) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _create(e, "Bad Id", event_type="nope", text_body="{% if %}")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    v = violations(err.value)
    assert {"notification_template_id", "notification_template.event_type"} <= set(v)
    assert "notification_template.text_body" in v
    with pytest.raises(grpc.aio.AioRpcError) as err:  # order.placed email is seeded
        await _create(
            e, unique("t-"), event_type="order.placed", channel=pb.CHANNEL_EMAIL, subject="S"
        )
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS


async def test_template_rpcs_need_engagement_permissions(e: Engagement) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await e.admin.CreateNotificationTemplate(
            admin_pb2.CreateNotificationTemplateRequest(
                notification_template_id=unique("t-"),
                notification_template=pb.NotificationTemplate(
                    event_type="order.payment_failed", channel=pb.CHANNEL_SMS, text_body="x"
                ),
            ),
            metadata=e.md(("engagement.read",)),
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await e.admin.ListNotificationTemplates(
            admin_pb2.ListNotificationTemplatesRequest(), metadata=e.customer_md("users/u1")
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
