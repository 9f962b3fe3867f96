using Microsoft.AspNetCore.Authorization;

namespace Company.RealtimeApp1.WebSockets;

internal sealed class ConsumerAccessHandler : AuthorizationHandler<ConsumerAccessRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, ConsumerAccessRequirement requirement)
    {
        if (context.Resource is not HttpContext httpContext || context.User.Identity?.IsAuthenticated != true)
        {
            return;
        }

        var consumer = requirement.Create(httpContext.RequestServices);
        var rule = (IAuthorizingConsumer)consumer;
        var request = new ConsumerRequest(context.User, httpContext.Request.RouteValues, httpContext.RequestServices, httpContext.RequestAborted);
        if (await rule.AuthorizeAsync(request))
        {
            ConsumerAccessRequirement.Remember(httpContext, consumer);
            context.Succeed(requirement);
        }
        else
        {
            context.Fail(new AuthorizationFailureReason(this, rule.ForbiddenDetail));
        }
    }
}
